//! Adding and editing a served enterprise; the credit code is checked as it is typed.

use ledger::{Command, EnterpriseDraft, RecordId};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::pages::media::MediaField;
use crate::pages::parts::{route_id, RecordForm, TextField};
use crate::service::LedgerService;
use ledger::photo::{Location, MediaEdit, PhotoRef};

#[component]
pub fn NewEnterprise() -> impl IntoView {
    view! { <EnterpriseEditor initial=EnterpriseDraft::default() editing=None photos=Vec::new() location=None/> }
}

#[component]
pub fn EditEnterprise() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let found = route_id().and_then(|id| service.enterprises.with_untracked(|all| all.iter().find(|e| e.id == id && !e.deleted).cloned()));
    match found {
        Some(e) => view! { <EnterpriseEditor initial=e.to_draft() editing=Some(e.id) photos=e.photos location=e.location/> }.into_any(),
        None => crate::pages::parts::not_found("企业", "/enterprises"),
    }
}

#[component]
fn EnterpriseEditor(initial: EnterpriseDraft, editing: Option<RecordId>, photos: Vec<PhotoRef>, location: Option<Location>) -> impl IntoView {
    let media = RwSignal::new(MediaEdit::default());
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let errors = form.errors;
    let back = editing.as_ref().map_or_else(|| "/enterprises".to_owned(), |id| format!("/enterprises/{id}"));
    let is_edit = editing.is_some();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let enterprise = draft.get_untracked();
        let checked = enterprise.validate().map(|_| ());
        let command = match editing.clone() {
            Some(id) => Command::UpdateEnterprise { id, enterprise, media: media.get_untracked() },
            None => Command::AddEnterprise { enterprise, media: media.get_untracked() },
        };
        form.submit(checked, command, |id| format!("/enterprises/{id}"));
    };
    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href=back>"‹ 返回"</a>
            <h2>{if is_edit { "修改企业信息" } else { "添加服务企业" }}</h2>
            <TextField label="企业名称" name="name" required=true max=ledger::enterprise::MAX_NAME draft errors get=|d: &EnterpriseDraft| &d.name set=|d: &mut EnterpriseDraft, v| d.name = v/>
            <TextField label="统一社会信用代码" name="credit_code" required=true placeholder="营业执照上的 18 位代码" draft errors
                get=|d: &EnterpriseDraft| &d.credit_code set=|d: &mut EnterpriseDraft, v| d.credit_code = v/>
            <TextField label="所属行业" name="industry" placeholder="选填" draft errors get=|d: &EnterpriseDraft| &d.industry set=|d: &mut EnterpriseDraft, v| d.industry = v/>
            <TextField label="联系人" name="contact" placeholder="选填" draft errors get=|d: &EnterpriseDraft| &d.contact set=|d: &mut EnterpriseDraft, v| d.contact = v/>
            <TextField label="联系电话" name="phone" input_type="tel" placeholder="选填" draft errors get=|d: &EnterpriseDraft| &d.phone set=|d: &mut EnterpriseDraft, v| d.phone = v/>
            <TextField label="地址" name="address" max=ledger::enterprise::MAX_ADDRESS placeholder="选填" draft errors get=|d: &EnterpriseDraft| &d.address set=|d: &mut EnterpriseDraft, v| d.address = v/>
            <MediaField current=photos location edit=media/>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"保存"</button>
            </div>
        </form>
    }
}
