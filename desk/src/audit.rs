//! The audit log (操作日志): every admin action, newest first.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, local_time, AuditEntry, OrgView};

fn action_label(action: &str) -> &str {
    match action {
        "add_unit" => "添加单位",
        "add_person" => "添加人员",
        "grant" => "授予角色",
        "import" => "批量导入",
        "issue_code" => "发放激活码",
        "set_password" => "设置密码",
        "add_device" => "启用设备",
        "device_retired" => "停用设备",
        "device_lost" => "设备报失",
        "settings" => "修改设置",
        "board.contact" => "查看群众回访电话",
        other => other,
    }
}

#[component]
pub fn Audit(org: OrgView) -> impl IntoView {
    let entries = RwSignal::new(None::<Result<Vec<AuditEntry>, String>>);
    spawn_local(async move {
        entries.set(Some(api::get::<Vec<AuditEntry>>("/api/admin/audit").await.map_err(|e| e.message())));
    });
    view! {
        <section class="card">
            <h2>"操作日志"</h2>
            {move || match entries.get() {
                None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="grid" data-testid="audit">
                        <thead><tr><th>"时间"</th><th>"操作人"</th><th>"操作"</th><th>"内容"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! {
                                <tr>
                                    <td>{local_time(e.at)}</td>
                                    <td>{e.person.as_deref().map(|p| org.person_name(p)).unwrap_or_else(|| "系统".into())}</td>
                                    <td>{action_label(&e.action).to_owned()}</td>
                                    <td>{e.detail.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
