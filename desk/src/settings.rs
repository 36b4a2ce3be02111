//! 设置: the organisation's time limits for a resident's 差评 (签收 and 答复, in working days),
//! which the desk's overdue counts and every unit's case deadlines follow. Only an admin of
//! the whole tree changes them; the others see them.

use http_api::admin::Settings as Limits;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

#[component]
pub fn Settings() -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<Limits, String>>);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    spawn_local(async move {
        loaded.set(Some(api::get::<Limits>("/api/admin/settings").await.map_err(|e| e.message())));
    });
    let form = move |limits: Limits| {
        let acknowledge = RwSignal::new(limits.case_acknowledge_days.to_string());
        let answer = RwSignal::new(limits.case_answer_days.to_string());
        let may = limits.may_change;
        let save = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (Ok(a), Ok(b)) = (acknowledge.get_untracked().trim().parse::<u32>(), answer.get_untracked().trim().parse::<u32>()) else {
                outcome.set(Some(Err("请填写天数（整数）".into())));
                return;
            };
            let body = Limits { case_acknowledge_days: a, case_answer_days: b, may_change: true };
            spawn_local(async move {
                match api::post::<Limits>("/api/admin/settings", &body).await {
                    Ok(saved) => {
                        outcome.set(Some(Ok(format!("已保存：签收 {} 个工作日，答复 {} 个工作日", saved.case_acknowledge_days, saved.case_answer_days))));
                    }
                    Err(e) => outcome.set(Some(Err(e.message()))),
                }
            });
        };
        view! {
            <form class="settings" on:submit=save data-testid="settings">
                <label>"差评签收时限（工作日）"
                    <input type="number" name="case_acknowledge_days" min="1" max="60" disabled=!may bind:value=acknowledge/>
                </label>
                <label>"差评答复时限（工作日，自收到评价起）"
                    <input type="number" name="case_answer_days" min="1" max="60" disabled=!may bind:value=answer/>
                </label>
                {if may {
                    view! { <button type="submit" class="primary">"保存"</button> }.into_any()
                } else {
                    view! { <p class="muted">"只有全市（组织顶层）的管理员可以修改。"</p> }.into_any()
                }}
                <crate::org_tree::Outcome message=outcome/>
            </form>
        }
    };
    view! {
        <section class="card">
            <h2>"设置"</h2>
            <p class="muted small">"群众在先锋广场给出差评后，单位须在时限内签收，并整改、解释或申诉；逾期的差评在督查台标红。时限只跳过周六、周日，法定节假日也按工作日计算。"</p>
            {move || match loaded.get() {
                None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(limits)) => form(limits).into_any(),
            }}
        </section>
    }
}
