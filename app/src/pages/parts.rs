//! Pieces every record page uses: text fields bound to a draft, one-tap choice chips, the
//! conflict chooser, a record's log and its change history.

use leptos::prelude::*;
use ledger::{Conflict, LogEntry, RecordId, Section, ValidationErrors};

use crate::browser;
use crate::service::LedgerService;

/// One labelled text field of a draft (an input, or a textarea when `rows` is given), with
/// its validation message underneath.
#[component]
pub fn TextField<T: Send + Sync + 'static>(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] rows: Option<u32>,
    #[prop(optional)] input_type: Option<&'static str>,
    draft: RwSignal<T>,
    errors: RwSignal<ValidationErrors>,
    get: fn(&T) -> &String,
    set: fn(&mut T, String),
) -> impl IntoView {
    let value = move || draft.with(|d| get(d).clone());
    let invalid = move || errors.with(|e| e.for_field(name).is_some()).to_string();
    let on_input = move |ev| draft.update(|d| set(d, event_target_value(&ev)));
    let input = match rows {
        Some(rows) => view! {
            <textarea name=name rows=rows placeholder=placeholder aria-invalid=invalid prop:value=value on:input=on_input></textarea>
        }
        .into_any(),
        None => view! {
            <input type=input_type.unwrap_or("text") name=name placeholder=placeholder aria-invalid=invalid prop:value=value on:input=on_input/>
        }
        .into_any(),
    };
    view! {
        <label class="field">{label} {input}
            <FieldError errors name/>
        </label>
    }
}

#[component]
pub fn FieldError(errors: RwSignal<ValidationErrors>, name: &'static str) -> impl IntoView {
    move || errors.with(|e| e.for_field(name).map(|m| view! { <p class="field-error">{m.to_owned()}</p> }))
}

/// A row of chips choosing one value: one tap, big targets, no dropdown to open.
#[component]
pub fn Chips<C: Copy + PartialEq + Send + Sync + 'static>(
    label: &'static str,
    name: &'static str,
    options: &'static [C],
    label_of: fn(C) -> &'static str,
    selected: Signal<C>,
    on_pick: Callback<C>,
) -> impl IntoView {
    view! {
        <div class="field">
            <span>{label}</span>
            <div class="chips" role="group" aria-label=label data-name=name>
                {options.iter().copied().map(|c| view! {
                    <button type="button" class="chip" aria-pressed=move || (selected.get() == c).to_string()
                        on:click=move |_| on_pick.run(c)>{label_of(c)}</button>
                }).collect_view()}
            </div>
        </div>
    }
}

/// The values two people set differently for one field, with a button to keep each.
#[component]
pub fn ConflictChooser(
    section: Section,
    id: RecordId,
    conflicts: Vec<Conflict>,
    labels: &'static [(&'static str, &'static str)],
    /// Turns a stored value (a code) into what a person reads.
    show: fn(&str, &str) -> String,
) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let failure = RwSignal::new(None::<String>);
    (!conflicts.is_empty()).then(|| {
        let items = conflicts
            .into_iter()
            .map(|c| {
                let field_label = labels.iter().find(|(k, _)| *k == c.field).map_or(c.field.clone(), |(_, l)| (*l).to_owned());
                let buttons = c
                    .values
                    .iter()
                    .map(|value| {
                        let (id, field, value) = (id.clone(), c.field.clone(), value.clone());
                        let text = show(&field, &value);
                        let pick = move |_| {
                            let (id, field, value) = (id.clone(), field.clone(), value.clone());
                            leptos::task::spawn_local(async move {
                                let result = service
                                    .write(move |l, now| l.resolve_conflict(section, &id, &field, &value, now).map(|()| id))
                                    .await;
                                failure.try_set(result.err().map(|e| e.to_string()));
                            });
                        };
                        view! { <button type="button" class="button secondary" on:click=pick>"保留“" {text} "”"</button> }
                    })
                    .collect_view();
                view! { <div class="conflict"><p><strong>{field_label}</strong> "：两人同时改成了不同的值，请选定一个"</p><div class="actions">{buttons}</div></div> }
            })
            .collect_view();
        view! {
            <section class="conflicts alert" role="alert" data-testid="conflicts">
                {items}
                {move || failure.get().map(|f| view! { <p class="field-error">{f}</p> })}
            </section>
        }
    })
}

/// A record's log (进展、状态变更), oldest first.
#[component]
pub fn LogList(entries: Vec<LogEntry>, show: fn(&LogEntry) -> String) -> impl IntoView {
    view! {
        <ol class="log" data-testid="log">
            {entries.into_iter().map(|e| view! {
                <li>
                    <span class="muted small">{browser::date_time(e.at)} " · " {if e.by.is_empty() { "未署名".to_owned() } else { e.by.clone() }}</span>
                    <p class="pre">{show(&e)}</p>
                </li>
            }).collect_view()}
        </ol>
    }
}

/// Who changed the record and when (修改记录), read from the document's history on request.
#[component]
pub fn History(id: RecordId) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let lines = RwSignal::new(None::<Vec<ledger::HistoryEntry>>);
    let load = move |_| lines.set(service.with_ledger(|l| l.history(&id)));
    view! {
        <details class="history" on:toggle=load>
            <summary>"修改记录"</summary>
            <ol class="log" data-testid="history">
                {move || lines.get().unwrap_or_default().into_iter().map(|h| view! {
                    <li>
                        <span class="muted small">{browser::date_time(h.at_seconds * 1000)} " · " {if h.by.is_empty() { "未署名".to_owned() } else { h.by }} " · 设备会话 " {h.device}</span>
                        <p>{h.summary}</p>
                    </li>
                }).collect_view()}
            </ol>
        </details>
    }
}

/// A "not found" page for a record id that is not (or no longer) in the ledger.
pub fn not_found(what: &'static str, back: &'static str) -> AnyView {
    view! { <div class="center"><p>{format!("找不到这条{what}。")}</p><a href=back>"返回列表"</a></div> }.into_any()
}

/// The id in the route's `:id`.
pub fn route_id() -> Option<RecordId> {
    leptos_router::hooks::use_params_map().with_untracked(|p| p.get("id").and_then(|s| RecordId::parse(&s)))
}
