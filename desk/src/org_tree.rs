//! The organisation tree (组织架构): every unit the admin manages, in tree order, and adding a
//! unit under one of them.

use ledger::org::{Org, Unit, UnitKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, OrgView};
use crate::app::Directory;

/// The units in tree order (parents before children, siblings by name), with their depth.
pub fn tree_order(org: &Org) -> Vec<(usize, Unit)> {
    let mut out = Vec::new();
    let ids: std::collections::BTreeSet<&str> = org.units.keys().map(String::as_str).collect();
    // The tops of what is shown: units whose parent is not among them.
    let mut tops: Vec<&Unit> = org.units.values().filter(|u| u.parent.as_deref().is_none_or(|p| !ids.contains(p))).collect();
    tops.sort_by(|a, b| a.name.cmp(&b.name));
    fn walk(org: &Org, unit: &Unit, depth: usize, out: &mut Vec<(usize, Unit)>) {
        if out.len() > org.units.len() {
            return;
        }
        out.push((depth, unit.clone()));
        let mut children: Vec<&Unit> = org.units.values().filter(|u| u.parent.as_deref() == Some(unit.id.as_str())).collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            walk(org, child, depth + 1, out);
        }
    }
    for top in tops {
        walk(org, top, 0, &mut out);
    }
    out
}

#[component]
pub fn OrgTree(org: OrgView) -> impl IntoView {
    let directory = expect_context::<Directory>();
    let tree = tree_order(&org.org());
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
    let people_in = |unit: &str| {
        org.grants.iter().filter(|g| g.unit == unit).map(|g| format!("{}（{}）", org.person_name(&g.person), g.role.label())).collect::<Vec<_>>().join("、")
    };
    let rows: Vec<_> = tree
        .iter()
        .map(|(depth, u)| {
            view! {
                <tr data-unit=u.name.clone()>
                    <td style=format!("padding-left:{}em", 0.5 + *depth as f32 * 1.5)>{u.name.clone()}</td>
                    <td>{u.kind.label()}</td>
                    <td>{if u.ledger.is_some() { "有台账" } else { "" }}</td>
                    <td class="people">{people_in(&u.id)}</td>
                </tr>
            }
        })
        .collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({ "name": name.get_untracked().trim(), "kind": kind.get_untracked(), "parent": parent.get_untracked() });
        spawn_local(async move {
            match api::post::<serde_json::Value>("/api/admin/units", &body).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::org::Unit;

    #[test]
    fn the_tree_lists_parents_before_children_siblings_by_name() {
        let mut org = Org::default();
        for (id, name, kind, parent) in [("v2", "二村", UnitKind::Village, Some("t")), ("c", "县", UnitKind::County, None), ("t", "镇", UnitKind::Township, Some("c")), ("v1", "一村", UnitKind::Village, Some("t"))] {
            org.units.insert(id.into(), Unit { id: id.into(), name: name.into(), kind, parent: parent.map(Into::into), ledger: None });
        }
        let order: Vec<(usize, String)> = tree_order(&org).into_iter().map(|(d, u)| (d, u.id)).collect();
        assert_eq!(order, [(0, "c"), (1, "t"), (2, "v1"), (2, "v2")].map(|(d, id)| (d, id.to_owned())));
    }
}
