//! The organisation tree (组织架构): every unit the admin manages, in tree order, and adding a
//! unit under one of them.

use ledger::org::UnitKind;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, OrgView};
use crate::app::Directory;

#[component]
pub fn OrgTree(org: OrgView) -> impl IntoView {
    let directory = expect_context::<Directory>();
    let whole = org.org();
    let tree = whole.tree_order();
    let parents: Vec<(String, String, UnitKind)> = tree.iter().map(|(d, u)| (u.id.clone(), format!("{}{}", "　".repeat(*d), u.name), u.kind)).collect();
    let parent = RwSignal::new(parents.first().map(|p| p.0.clone()).unwrap_or_default());
    let kind_of = {
        let parents = parents.clone();
        move |id: &str| parents.iter().find(|p| p.0 == id).map(|p| p.2)
    };
    let kinds = move || {
        let parent_kind = kind_of(&parent.get());
        UnitKind::ALL.into_iter().filter(|k| parent_kind.is_some_and(|p| k.fits_under(p))).collect::<Vec<_>>()
    };
    let kind = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let message = directory.message;
    let people_in =
        |unit: &str| org.grants.iter().filter(|g| g.unit == unit).map(|g| format!("{}（{}）", org.person_name(&g.person), g.role.label())).collect::<Vec<_>>().join("、");
    let rows: Vec<_> = tree
        .iter()
        .map(|(depth, u)| {
            view! {
                <tr data-unit=u.name.clone()>
                    <td class=crate::depth_class(*depth)>{u.name.clone()}</td>
                    <td>{u.kind.label()}</td>
                    <td>{if u.ledger.is_some() { "有台账" } else { "" }}</td>
                    <td class="people">{people_in(&u.id)}</td>
                </tr>
            }
        })
        .collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = http_api::admin::NewUnit { name: name.get_untracked().trim().to_owned(), kind: kind.get_untracked(), parent: parent.get_untracked() };
        spawn_local(async move {
            match api::post::<ledger::org::Unit>("/api/admin/units", &body).await {
                Ok(_) => {
                    message.set(Some(Ok(format!("已添加“{}”", name.get_untracked().trim()))));
                    name.set(String::new());
                    directory.reload();
                }
                Err(e) => message.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"组织架构"</h2>
            <table class="grid" data-testid="org-tree">
                <thead><tr><th>"单位"</th><th>"类型"</th><th>"台账"</th><th>"人员"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <form class="card inline" on:submit=submit data-testid="add-unit">
            <h2>"添加下级单位"</h2>
            <label>"上级单位"
                <select name="parent" on:change=move |ev| { parent.set(event_target_value(&ev)); kind.set(String::new()); } prop:value=parent>
                    {parents.iter().map(|(id, label, _)| view! { <option value=id.clone()>{label.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"类型"
                <select name="kind" required on:change=move |ev| kind.set(event_target_value(&ev)) prop:value=kind>
                    <option value="">"请选择"</option>
                    {move || kinds().into_iter().map(|k| view! { <option value=k.code()>{k.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"名称"<input name="name" required maxlength="60" bind:value=name/></label>
            <button type="submit" class="primary">"添加"</button>
            <Outcome message=message/>
        </form>
    }
}

/// The answer to the last action: done (green) or refused with the server's reason.
#[component]
pub fn Outcome(message: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    move || {
        message.get().map(|m| match m {
            Ok(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
        })
    }
}
