//! Pieces every record page uses: text fields bound to a draft, one-tap choice chips, the
//! conflict chooser, a record's log and its change history.

use ledger::{Conflict, LogEntry, RecordId, Section, ValidationErrors};
use leptos::prelude::*;

use crate::browser;
use crate::pages::write_once::WriteOnce;
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
    /// Marked 必填 beside the label (a placeholder vanishes as soon as one types).
    #[prop(optional)]
    required: bool,
    /// The most characters the ledger accepts: a counter appears as the text nears it.
    #[prop(optional)]
    max: Option<usize>,
    /// A `<datalist>` of suggestions (the unit's people, for 责任人).
    #[prop(optional)]
    list: Option<&'static str>,
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
            <input type=input_type.unwrap_or("text") name=name list=list placeholder=placeholder aria-invalid=invalid prop:value=value on:input=on_input/>
        }
        .into_any(),
    };
    let counter = max.map(|max| {
        move || {
            let n = draft.with(|d| get(d).chars().count());
            (n * 10 >= max * 8).then(|| {
                let class = if n > max { "counter over" } else { "counter" };
                view! { <span class=class data-testid=format!("{name}-counter")>{format!("{n} / {max} 字")}</span> }
            })
        }
    });
    view! {
        <label class="field">{label} {required.then(|| view! { <span class="req">"必填"</span> })} {input}
            {counter}
            <FieldError errors name/>
        </label>
    }
}

/// The unit's people as suggestions for a 责任人 field (`list=id`), from `/api/me`.
#[component]
pub fn MemberList(id: &'static str) -> impl IntoView {
    view! {
        <datalist id=id>
            {expect_context::<crate::app::Members>().0.get_value().into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
        </datalist>
    }
}

#[component]
pub fn FieldError(errors: RwSignal<ValidationErrors>, name: &'static str) -> impl IntoView {
    move || errors.with(|e| e.for_field(name).map(|m| view! { <p class="field-error">{m.to_owned()}</p> }))
}

/// A row of chips choosing one value: one tap, big targets, no dropdown to open. `selected`
/// is None while nothing is chosen yet.
#[component]
pub fn Chips<C: Copy + PartialEq + Send + Sync + 'static>(
    #[prop(into)] label: String,
    #[prop(optional)] name: &'static str,
    options: &'static [C],
    label_of: fn(C) -> &'static str,
    selected: Signal<Option<C>>,
    on_pick: Callback<C>,
) -> impl IntoView {
    view! {
        <div class="field">
            <span>{label.clone()}</span>
            <div class="chips" role="group" aria-label=label data-name=name>
                {options.iter().copied().map(|c| view! {
                    <button type="button" class="chip" aria-pressed=move || (selected.get() == Some(c)).to_string()
                        on:click=move |_| on_pick.run(c)>{label_of(c)}</button>
                }).collect_view()}
            </div>
        </div>
    }
}

/// The values two people set differently for one field, with a button to keep each.
/// A stored value as a person reads it where no record-specific wording applies: flags as
/// 是 / 否, anything else as written.
pub fn plain_value(_field: &str, value: &str) -> String {
    match value {
        "true" => "是".to_owned(),
        "false" => "否".to_owned(),
        other => other.to_owned(),
    }
}

#[component]
pub fn ConflictChooser(
    section: Section,
    id: RecordId,
    conflicts: Vec<Conflict>,
    labels: &'static [ledger::record::Field],
    /// Turns a stored value (a code) into what a person reads.
    show: fn(&str, &str) -> String,
) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let writes = WriteOnce::of_page();
    let failure = RwSignal::new(None::<String>);
    (!conflicts.is_empty()).then(|| {
        let items = conflicts
            .into_iter()
            .map(|c| {
                let field_label = ledger::record::field_label(labels, &c.field).to_owned();
                // Who wrote which value: asked of the worker, shown once it answers.
                let authors = RwSignal::new(Vec::<(String, String)>::new());
                let (asked_id, asked_field) = (id.clone(), c.field.clone());
                leptos::task::spawn_local(async move {
                    let found = service.conflict_authors(section, asked_id, asked_field).await;
                    authors.try_set(found);
                });
                let buttons = c
                    .values
                    .iter()
                    .map(|value| {
                        let (id, field, value) = (id.clone(), c.field.clone(), value.clone());
                        let text = show(&field, &value);
                        let written_by = value.clone();
                        let by = move || {
                            let by = authors.with(|a| a.iter().find(|(v, _)| *v == written_by).map(|(_, by)| by.clone())).unwrap_or_default();
                            (!by.is_empty()).then(|| view! { <span class="by">{format!("（{by} 所填）")}</span> })
                        };
                        let pick = move |_| {
                            let (id, field, value) = (id.clone(), field.clone(), value.clone());
                            writes.run(
                                "conflict",
                                move || service.apply(ledger::Command::ResolveConflict { section, id, field, value }),
                                move |result| {
                                    failure.try_set(result.err());
                                },
                            );
                        };
                        view! { <button type="button" class="button secondary" disabled=move || writes.busy() on:click=pick>"保留“" {text} "”" {by}</button> }
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
                    <crate::pages::media::PhotoStrip photos=e.photos.clone()/>
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
    let load = move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let history = service.history(id).await;
            lines.try_set(Some(history));
        });
    };
    view! {
        <details class="history" on:toggle=load>
            <summary>"修改记录"</summary>
            <ol class="log" data-testid="history">
                {move || lines.get().unwrap_or_default().into_iter().map(|h| view! {
                    <li>
                        <span class="muted small">{browser::date_time(h.at_seconds * 1000)} " · " {if h.by.is_empty() { format!("未署名（设备 {}）", h.device) } else { h.by }}</span>
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
    crate::nav::use_location().route_id()
}

/// Deletes a record (a flag, so a concurrent edit elsewhere survives) and offers undo.
#[component]
pub fn DeleteButton(section: Section, id: RecordId, back: &'static str) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let crate::app::Undo(undo) = expect_context::<crate::app::Undo>();
    let location = crate::nav::use_location();
    let failure = RwSignal::new(None::<String>);
    let writes = WriteOnce::of_page();
    let delete = move |_| {
        let id = id.clone();
        writes.run(
            "delete",
            move || service.set_deleted(section, id.clone(), true),
            move |result| match result {
                Ok(id) => {
                    undo.set(Some((section, id)));
                    location.navigate(back);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    view! {
        {move || failure.get().map(|f| view! { <div class="alert" role="alert">{f}</div> })}
        <button type="button" class="button danger" disabled=move || writes.busy() on:click=delete>"删除"</button>
    }
}

/// What every record form shares: where field messages and the form-level message go, and the
/// one way a form is saved.
#[derive(Clone, Copy)]
pub struct RecordForm {
    service: LedgerService,
    pub errors: RwSignal<ValidationErrors>,
    pub failure: RwSignal<Option<String>>,
    pub saving: RwSignal<bool>,
    location: crate::nav::Location,
}

impl RecordForm {
    /// Call while building the form's component (it reads the context).
    pub fn new() -> Self {
        Self {
            service: expect_context::<LedgerService>(),
            errors: RwSignal::new(ValidationErrors::default()),
            failure: RwSignal::new(None),
            saving: RwSignal::new(false),
            location: crate::nav::use_location(),
        }
    }

    /// When the form's draft is valid (`checked`), `command` saves it and the app goes to
    /// `page_of` the saved record; an invalid draft marks its fields and saves nothing. A save
    /// already running is not repeated.
    pub fn submit(self, checked: Result<(), ValidationErrors>, command: ledger::Command, page_of: impl FnOnce(&RecordId) -> String + 'static) {
        if self.saving.get_untracked() {
            return;
        }
        if let Err(e) = checked {
            self.errors.set(e);
            self.failure.set(Some("请先改正标红的项目。".into()));
            leptos::task::spawn_local(browser::show_first_error());
            return;
        }
        self.errors.set(ValidationErrors::default());
        self.failure.set(None);
        self.saving.set(true);
        leptos::task::spawn_local(async move {
            let result = self.service.apply(command).await;
            self.saving.try_set(false);
            match result {
                Ok(id) => self.location.navigate(&page_of(&id)),
                Err(e) => {
                    self.failure.try_set(Some(e.to_string()));
                }
            }
        });
    }

    /// The form-level message, in the sticky bar beside the save button: always in view, never
    /// behind it.
    pub fn failure_view(self) -> impl IntoView {
        move || self.failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="save-error">{f}</div> })
    }
}

/// What a person is typing or choosing on a record's page, kept above the record's view: the
/// view is rebuilt whenever the record changes (a save, another phone's sync, another tab), and
/// that must never wipe half-typed words or close the step being taken. Nothing is chosen
/// until the person chooses it: a verdict, rating or evaluator is never a default.
#[derive(Clone, Copy)]
pub struct Typing {
    pub progress: RwSignal<String>,
    /// Photos chosen for the progress note being written.
    pub progress_media: RwSignal<ledger::photo::MediaEdit>,
    /// The name typed under 指派; `None` until typed (the field shows who is responsible now).
    pub assignee: RwSignal<Option<String>>,
    pub note: RwSignal<String>,
    pub step: RwSignal<Option<ledger::problem::ActionKind>>,
    /// Each step keeps its own words: a result typed under 办结 never becomes a reason for
    /// 不予受理.
    pub step_notes: RwSignal<Vec<(ledger::problem::ActionKind, String)>>,
    pub rating: RwSignal<Option<ledger::Satisfaction>>,
    pub evaluator: RwSignal<Option<ledger::pledge::Evaluator>>,
    pub answers: RwSignal<Vec<(RecordId, ledger::Satisfaction)>>,
    /// A five-level answer sheet (an office's satisfaction round).
    pub levels: RwSignal<Vec<(RecordId, ledger::Verdict)>>,
    /// Answer sheets saved since the page opened.
    pub saved: RwSignal<usize>,
    pub writes: WriteOnce,
}

impl Typing {
    /// Call in the page component, outside the part that is rebuilt.
    pub fn provide() {
        provide_context(Self {
            progress: RwSignal::new(String::new()),
            progress_media: RwSignal::new(Default::default()),
            assignee: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            step: RwSignal::new(None),
            step_notes: RwSignal::new(Vec::new()),
            rating: RwSignal::new(None),
            evaluator: RwSignal::new(None),
            answers: RwSignal::new(Vec::new()),
            levels: RwSignal::new(Vec::new()),
            saved: RwSignal::new(0),
            writes: WriteOnce::provide(),
        });
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// The words typed for `step`.
    pub fn step_note(self, step: ledger::problem::ActionKind) -> String {
        self.step_notes.with(|n| n.iter().find(|(k, _)| *k == step).map(|(_, t)| t.clone()).unwrap_or_default())
    }

    pub fn set_step_note(self, step: ledger::problem::ActionKind, text: String) {
        self.step_notes.update(|n| {
            n.retain(|(k, _)| *k != step);
            n.push((step, text));
        });
    }
}

/// Cards in a list's first frame: what a phone's screen shows. The rest of its page follows
/// right after that frame is painted, so a tap on a tab answers without drawing cards nobody
/// sees yet.
const FIRST_SCREEN: usize = 8;

/// How many cards a list shows, starting with one screen and growing to `page` after the
/// first paint (and by `page` at each "显示更多"). When the list is only drawn to warm up its
/// code, none or one: one card runs all of a card's code.
pub fn card_limit(page: usize) -> RwSignal<usize> {
    if let Some(cards) = crate::warm_up::warming_up() {
        return RwSignal::new(cards);
    }
    let limit = RwSignal::new(FIRST_SCREEN.min(page));
    leptos::task::spawn_local(async move {
        crate::browser::next_paint().await;
        limit.try_update(|n| *n = (*n).max(page));
    });
    limit
}
