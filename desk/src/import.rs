//! Batch import (批量导入) of units and people from .xlsx or CSV: the templates to download,
//! the upload, and either what was added or each wrong row with its reason (nothing is added
//! then).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::app::Directory;

/// What became of the last file uploaded.
#[derive(Clone, PartialEq)]
pub enum Outcome {
    Busy,
    Done { units: u64, people: u64, grants: u64 },
    Rows { message: String, rows: Vec<(u64, String)>, total: u64 },
    Failed(String),
}

#[component]
pub fn Import() -> impl IntoView {
    let directory = expect_context::<Directory>();
    let outcome = directory.import;
    let upload = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        outcome.set(Some(Outcome::Busy));
        spawn_local(async move {
            let answer = api::post_file::<http_api::admin::Imported>("/api/admin/import", &file).await;
            outcome.set(Some(match answer {
                Ok(c) => {
                    directory.reload();
                    Outcome::Done { units: c.units as u64, people: c.people as u64, grants: c.grants as u64 }
                }
                Err(ApiError::Refused { body, .. }) if body.get("rows").is_some() => match serde_json::from_value::<http_api::admin::ImportRefused>(body) {
                    Ok(r) => Outcome::Rows { message: r.message, rows: r.rows.into_iter().map(|row| (row.line as u64, row.message)).collect(), total: r.total as u64 },
                    Err(e) => Outcome::Failed(e.to_string()),
                },
                Err(e) => Outcome::Failed(e.message()),
            }));
        });
    };
    view! {
        <section class="card">
            <h2>"批量导入单位和人员"</h2>
            <p>"先下载模板填写，每行一个单位，可同时写一名人员在该单位的角色。任何一行有误时整表不导入，并逐行说明原因。"</p>
            <p>
                <a class="button" href="/api/admin/import/template.xlsx" download>"下载模板（.xlsx）"</a>
                " "
                <a class="button" href="/api/admin/import/template.csv" download>"下载模板（CSV）"</a>
            </p>
            <label class="upload">"选择填好的文件（.xlsx 或 .csv）"
                <input type="file" name="file" accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" on:change=upload/>
            </label>
            {move || outcome.get().map(|o| match o {
                Outcome::Busy => view! { <p class="muted">"正在导入…"</p> }.into_any(),
                Outcome::Done { units, people, grants } => view! {
                    <p class="ok" role="status" data-testid="import-done">{format!("已导入：{units} 个单位、{people} 名人员、{grants} 个角色")}</p>
                }.into_any(),
                Outcome::Rows { message, rows, total } => view! {
                    <div class="error" role="alert" data-testid="import-rows">
                        <p>{message}</p>
                        <table class="grid">
                            <thead><tr><th>"行"</th><th>"原因"</th></tr></thead>
                            <tbody>{rows.into_iter().map(|(line, why)| view! { <tr><td>{line}</td><td>{why}</td></tr> }).collect_view()}</tbody>
                        </table>
                        {(total as usize > 200).then(|| view! { <p>{format!("只列出前 200 行，共 {total} 行有误")}</p> })}
                    </div>
                }.into_any(),
                Outcome::Failed(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
            })}
        </section>
    }
}
