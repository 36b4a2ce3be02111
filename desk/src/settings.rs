//! 设置: the organisation's time limits for a resident's 差评 (签收 and 答复, in working days)
//! and its working-day calendar (放假 and 调休上班 days), which the desk's overdue counts, the
//! public board and every phone's case deadlines follow. Only an admin of the whole tree
//! changes them; the others see them.

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
        let holidays = RwSignal::new(limits.holidays.clone().unwrap_or_default());
        let workdays = RwSignal::new(limits.workdays.clone().unwrap_or_default());
        let may = limits.may_change;
        let save = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (Ok(a), Ok(b)) = (acknowledge.get_untracked().trim().parse::<u32>(), answer.get_untracked().trim().parse::<u32>()) else {
                outcome.set(Some(Err("请填写天数（整数）".into())));
                return;
            };
            let body =
                Limits { case_acknowledge_days: a, case_answer_days: b, holidays: Some(holidays.get_untracked()), workdays: Some(workdays.get_untracked()), may_change: true };
            spawn_local(async move {
                match api::post::<Limits>("/api/admin/settings", &body).await {
                    Ok(saved) => {
                        // As the server reads them back: ranges joined, one per line.
                        holidays.set(saved.holidays.clone().unwrap_or_default());
                        workdays.set(saved.workdays.clone().unwrap_or_default());
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
                <label>"法定节假日（周一至周五放假的日期）"
                    <textarea name="holidays" rows="5" placeholder="2027-01-01\n2027-02-08~2027-02-12" disabled=!may bind:value=holidays></textarea>
                </label>
                <label>"调休上班日（周六、周日上班的日期）"
                    <textarea name="workdays" rows="3" placeholder="2027-02-07" disabled=!may bind:value=workdays></textarea>
                </label>
                <p class="muted small">"每行一个日期或一段日期（2027-02-08~2027-02-12）；国务院每年公布次年安排后填写。"</p>
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
            <p class="muted small">"群众在先锋广场给出差评后，单位须在时限内签收，并整改、解释或申诉；逾期的差评在督查台标红。时限按工作日计算：跳过周六、周日和下面填写的法定节假日，调休上班日照常计算。"</p>
            {move || match loaded.get() {
                None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(limits)) => form(limits).into_any(),
            }}
        </section>
    }
}
