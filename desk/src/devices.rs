//! Devices (设备): each person's phones, sessions and tokens with last contact and app version;
//! retiring one (the person left: it uploads what it has, then erases itself) or reporting it
//! lost (nothing more accepted; it erases itself at next contact).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, local_time, Device, OrgView};
use crate::org_tree::Outcome;

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "在用",
        "retired" => "已停用",
        "lost" => "已报失",
        _ => "未知",
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "phone" => "手机",
        "session" => "电脑登录",
        "token" => "接口令牌",
        _ => "其他",
    }
}

#[component]
pub fn Devices(org: OrgView) -> impl IntoView {
    let devices = RwSignal::new(None::<Result<Vec<Device>, String>>);
    let message = expect_context::<crate::app::Directory>().message;
    let load = move || {
        spawn_local(async move {
            devices.set(Some(api::get::<Vec<Device>>("/api/admin/devices").await.map_err(|e| e.message())));
        })
    };
    load();
    let act = move |id: String, action: &'static str, question: String| {
        let confirmed = web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            match api::post::<http_api::admin::DeviceStatus>(&format!("/api/admin/devices/{id}/{action}"), &serde_json::json!({})).await {
                Ok(_) => {
                    message.set(Some(Ok(if action == "retire" { "已停用".into() } else { "已报失".into() })));
                    load();
                }
                Err(e) => message.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <Outcome message=message/>
        <section class="card">
            <h2>"设备"</h2>
            <p class="muted">"停用：人员离岗，设备先上传未同步的内容，再清除本机数据。报失：不再接受它的任何内容，下次联网即清除本机数据。"</p>
            {move || match devices.get() {
                None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="grid" data-testid="devices">
                        <thead><tr><th>"人员"</th><th>"设备"</th><th>"类型"</th><th>"状态"</th><th>"最近联系"</th><th>"版本"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|d| {
                                let person = org.person_name(&d.person);
                                let active = d.status == "active";
                                let (id1, id2) = (d.id.clone(), d.id.clone());
                                let shown = d.readable_name();
                                let (q1, q2) = (format!("停用{person}的“{shown}”？"), format!("报告{person}的“{shown}”丢失？它将不能再同步。"));
                                view! {
                                    <tr data-device=d.name.clone() data-status=d.status.clone()>
                                        <td>{person.clone()}</td>
                                        <td title=d.name.clone()>{shown}</td>
                                        <td>{kind_label(&d.kind)}</td>
                                        <td class=format!("status-{}", d.status)>{status_label(&d.status)}</td>
                                        <td>{d.last_seen.map(local_time).unwrap_or_else(|| "从未".into())}</td>
                                        <td>{d.app_version.clone().unwrap_or_default()}</td>
                                        <td>
                                            <button class="plain" data-testid="retire" disabled=!active on:click=move |_| act(id1.clone(), "retire", q1.clone())>"停用"</button>
                                            <button class="plain danger" data-testid="lose" disabled=d.status == "lost" on:click=move |_| act(id2.clone(), "lose", q2.clone())>"报失"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
