//! Posts (岗位, 设岗定责): who in the unit is responsible for what. The secretary sets them up
//! and publishes them to the public board (先锋广场); everyone in the unit reads them.

use ledger::org::Write;
use ledger::rating::Target;
use ledger::{Command, Post, PostDraft, RecordId, Section};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::pages::board::{poster_url, PublishSwitch, RatingsOf};
use crate::pages::parts::{not_found, route_id, DeleteButton, History, MemberList, RecordForm, TextField, Typing};
use crate::service::LedgerService;

#[component]
pub fn NewPost() -> impl IntoView {
    view! { <PostEditor initial=PostDraft::default() editing=None/> }
}

#[component]
pub fn EditPost() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let found = route_id().and_then(|id| service.posts.with_untracked(|all| all.iter().find(|p| p.id == id && !p.deleted).cloned()));
    match found {
        Some(p) => view! { <PostEditor initial=p.to_draft() editing=Some(p.id)/> }.into_any(),
        None => not_found("岗位", "/board"),
    }
}

#[component]
fn PostEditor(initial: PostDraft, editing: Option<RecordId>) -> impl IntoView {
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let errors = form.errors;
    let back = editing.as_ref().map_or_else(|| "/board".to_owned(), |id| format!("/board/posts/{id}"));
    let is_edit = editing.is_some();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let post = draft.get_untracked();
        let checked = post.validate().map(|_| ());
        let command = match editing.clone() {
            Some(id) => Command::UpdatePost { id, post },
            None => Command::AddPost { post },
        };
        form.submit(checked, command, |id| format!("/board/posts/{id}"));
    };
    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href=back>"‹ 返回"</a>
            <h2>{if is_edit { "修改岗位" } else { "设岗定责" }}</h2>
            <TextField label="岗位名称" name="title" required=true max=ledger::post::MAX_TITLE placeholder="如：便民服务窗口" draft errors
                get=|d: &PostDraft| &d.title set=|d: &mut PostDraft, v| d.title = v/>
            <TextField label="责任人" name="holder" required=true max=ledger::post::MAX_HOLDER list="unit-members" draft errors
                get=|d: &PostDraft| &d.holder set=|d: &mut PostDraft, v| d.holder = v/>
            <TextField label="岗位职责" name="duties" required=true rows=4 max=ledger::post::MAX_DUTIES draft errors
                get=|d: &PostDraft| &d.duties set=|d: &mut PostDraft, v| d.duties = v/>
            <TextField label="服务时间" name="hours" max=ledger::post::MAX_HOURS placeholder="如：工作日 8:30–17:30（选填）" draft errors
                get=|d: &PostDraft| &d.hours set=|d: &mut PostDraft, v| d.hours = v/>
            <MemberList id="unit-members"/>
            <p class="muted small">"保存后由书记决定是否在先锋广场公开。"</p>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"保存"</button>
            </div>
        </form>
    }
}

#[component]
pub fn PostDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    Typing::provide();
    let id = route_id();
    let post = move || id.as_ref().and_then(|id| service.posts.with(|all| all.iter().find(|p| p.id == *id && !p.deleted).cloned()));
    move || match post() {
        Some(p) => view! { <PostView post=p/> }.into_any(),
        None => not_found("岗位", "/board"),
    }
}

#[component]
fn PostView(post: Post) -> impl IntoView {
    let secretary = expect_context::<Write>() == Write::Everything;
    let id = post.id.clone();
    view! {
        <article class="detail" data-testid="post">
            <a class="back" href="/board">"‹ 先锋广场"</a>
            <h2>{post.title.clone()}</h2>
            <p class="meta">"责任人：" {post.holder.clone()} {(!post.hours.is_empty()).then(|| format!(" · 服务时间：{}", post.hours))}</p>
            <p class="pre">{post.duties.clone()}</p>
            <PublishSwitch section=Section::Posts id=id.clone() published=post.published/>
            {post.is_public().then(|| poster_url(Target::Post, &id)).flatten().map(|href| view! {
                <a class="button secondary" href=href target="_blank" rel="noopener" data-testid="poster">"打印评价海报"</a>
            })}
            {secretary.then(|| view! {
                <div class="actions">
                    <a class="button secondary" href=format!("/board/posts/{id}/edit")>"编辑"</a>
                    <DeleteButton section=Section::Posts id=id.clone() back="/board"/>
                </div>
            })}
            <RatingsOf target=Target::Post id=id.clone()/>
            <History id=id/>
        </article>
    }
}
