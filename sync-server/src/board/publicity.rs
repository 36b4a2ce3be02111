//! 评先评优 in public: during a round's 公示 its shortlist is on each shortlisted unit's board
//! and on the round's own page (`/gongshi/{round}`), where anyone may object; once decided, the
//! commended appear on their unit's board as 先进事迹. Name, unit, post, 简要事迹 and dates only:
//! never an ID number or a phone number (the nomination holds none, and the objector's contact
//! is the office's alone).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use ledger::award::{check_objection, Stage};
use ledger::org::Org;
use serde::Deserialize;

use super::{admit, failed, give_back, html, not_found, now_ms, pages, unreadable};
use crate::awards::stage_of;
use crate::hub::Hub;
use crate::storage::{AwardRound, Nomination, Objection};
use crate::{AppState, Client};

/// Objections one round takes in all: past it the page asks people to write to the office.
pub(crate) const MAX_OBJECTIONS_PER_ROUND: usize = 2_000;

fn unit_name(org: &Org, unit: &str) -> String {
    org.units.get(unit).map(|u| u.name.clone()).unwrap_or_default()
}

fn zh_day(s: &str) -> String {
    ledger::day::parse(s).map(|d| d.format("%Y年%-m月%-d日").to_string()).unwrap_or_default()
}

fn nominee_card(org: &Org, n: &Nomination, extra: &str) -> String {
    let post = if n.post.is_empty() { String::new() } else { format!(" · {}", text(&n.post)) };
    format!("<div class=\"card\"><h3>{}</h3><div class=\"meta\">{}{post}</div><div>{}</div>{extra}</div>", text(&n.name), text(&unit_name(org, &n.unit)), text(&n.summary),)
}

/// The board's sections for `unit`: its shortlisted people in a 公示 now, and its commended.
pub(super) fn unit_sections(hub: &Hub, org: &Org, unit: &str) -> Result<String, String> {
    let mut publicity = String::new();
    let mut commended = String::new();
    let storage = &hub.storage;
    for round in storage.award_rounds()? {
        let stage = stage_of(hub, &round);
        if !matches!(stage, Stage::Publicity | Stage::Decided) {
            continue;
        }
        for n in storage.nominations(&round.id)?.iter().filter(|n| n.unit == unit) {
            if stage == Stage::Publicity && n.shortlisted {
                let link = format!("<a class=\"btn light\" href=\"/gongshi/{}\">查看公示、提出异议</a>", attr(&round.id));
                publicity.push_str(&format!("<div class=\"meta\">{}（公示至 {}）</div>", text(&round.title), zh_day(&round.publicity_to)));
                publicity.push_str(&nominee_card(org, n, &link));
            }
            if n.commended {
                commended.push_str(&nominee_card(
                    org,
                    n,
                    &format!(
                        "<div class=\"meta\">{} · {}</div>",
                        text(&round.title),
                        ledger::report::day_of(round.decided_at).map(|d| d.format("%Y年%-m月%-d日").to_string()).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let mut out = String::new();
    if !publicity.is_empty() {
        out.push_str("<h2>评先评优公示</h2>");
        out.push_str(&publicity);
    }
    if !commended.is_empty() {
        out.push_str("<h2>先进事迹</h2>");
        out.push_str(&commended);
    }
    Ok(out)
}

/// The round's page: in 公示, the shortlist and the objection form; after, who was commended.
fn round_page(hub: &Hub, org: &Org, round: &AwardRound, nominations: &[Nomination], filled: Option<(&str, &ObjectionForm)>) -> String {
    let office = format!("{}先锋办", unit_name(org, &round.node));
    let mut body = format!("<h2>{}</h2>", text(&round.title));
    match stage_of(hub, round) {
        Stage::Publicity => {
            body.push_str(&format!(
                "<p class=\"note\">公示时间：{} 至 {}（{} 个工作日）。对公示对象有异议的，请在公示期内通过本页提出，写明具体事实；也可向{}反映。</p>",
                zh_day(&round.publicity_from),
                zh_day(&round.publicity_to),
                round.publicity_days,
                text(&office),
            ));
            for n in nominations.iter().filter(|n| n.shortlisted) {
                body.push_str(&nominee_card(org, n, ""));
            }
            body.push_str("<h2>提出异议</h2>");
            if let Some((error, _)) = filled {
                body.push_str(&format!("<p class=\"err\">{}</p>", text(error)));
            }
            let chosen = filled.map(|(_, f)| f.nomination.as_str()).unwrap_or_default();
            body.push_str(&format!("<form method=\"post\" action=\"/gongshi/{}/objections\"><div class=\"levels\">", attr(&round.id)));
            for n in nominations.iter().filter(|n| n.shortlisted) {
                let checked = if n.id == chosen { " checked" } else { "" };
                body.push_str(&format!(
                    "<label><input type=\"radio\" name=\"nomination\" value=\"{}\"{checked}><span>{}（{}）</span></label>",
                    attr(&n.id),
                    text(&n.name),
                    text(&unit_name(org, &n.unit))
                ));
            }
            let (words, contact) = filled.map(|(_, f)| (f.text.as_str(), f.contact.as_str())).unwrap_or_default();
            body.push_str(&format!(
                "</div><label class=\"f\" for=\"text\">异议内容（请写明具体事实）</label><textarea id=\"text\" name=\"text\" maxlength=\"{}\">{}</textarea>\
                 <label class=\"f\" for=\"contact\">联系方式（选填，仅先锋办核查时使用，不公开）</label><input id=\"contact\" type=\"text\" name=\"contact\" maxlength=\"{}\" value=\"{}\">\
                 <button class=\"btn\" type=\"submit\">提交异议</button></form>",
                ledger::award::MAX_OBJECTION,
                text(words),
                ledger::award::MAX_CONTACT,
                attr(contact),
            ));
        }
        Stage::Decided => {
            body.push_str(&format!(
                "<p class=\"note\">公示期满，经核查，{}作出表彰决定{}。</p>",
                text(&office),
                if round.decision.is_empty() { String::new() } else { format!("（{}）", text(&round.decision)) }
            ));
            for n in nominations.iter().filter(|n| n.commended) {
                body.push_str(&nominee_card(org, n, ""));
            }
        }
        _ => body.push_str(&format!("<p class=\"note\">公示已于 {} 结束，{}正在核查、研究。</p>", zh_day(&round.publicity_to), text(&office))),
    }
    pages::page("评先评优公示", &office, &body)
}

/// `/gongshi`: every round in 公示 now, and the latest decided, for whoever has no direct link.
fn index_page(hub: &Hub) -> Result<String, String> {
    let org = hub.directory.org();
    let mut now = String::new();
    let mut decided = String::new();
    for round in hub.storage.award_rounds()? {
        let office = format!("{}先锋办", unit_name(&org, &round.node));
        let link = |what: &str| format!("<a class=\"btn light\" href=\"/gongshi/{}\">{what}</a>", attr(&round.id));
        match stage_of(hub, &round) {
            Stage::Publicity => now.push_str(&format!(
                "<div class=\"card\"><h3>{}</h3><div class=\"meta\">{} · 公示至 {}</div>{}</div>",
                text(&round.title),
                text(&office),
                zh_day(&round.publicity_to),
                link("查看公示、提出异议")
            )),
            Stage::Decided => {
                decided.push_str(&format!("<div class=\"card\"><h3>{}</h3><div class=\"meta\">{}</div>{}</div>", text(&round.title), text(&office), link("查看表彰名单")))
            }
            _ => {}
        }
    }
    let mut body = String::from("<h2>正在公示</h2>");
    body.push_str(if now.is_empty() { "<p class=\"note\">目前没有正在公示的评选。</p>" } else { &now });
    if !decided.is_empty() {
        body.push_str("<h2>表彰名单</h2>");
        body.push_str(&decided);
    }
    Ok(pages::page("评先评优公示", "评先评优公示", &body))
}

pub(super) async fn index(State(state): State<AppState>) -> Response {
    let hub = state.hub.clone();
    match tokio::task::spawn_blocking(move || index_page(&hub)).await {
        Ok(Ok(page)) => html(StatusCode::OK, page),
        Ok(Err(e)) => failed(e),
        Err(e) => failed(e),
    }
}

fn public_round(hub: &Hub, id: &str) -> Result<Option<(AwardRound, Vec<Nomination>)>, String> {
    let storage = &hub.storage;
    let Some(round) = storage.award_round(id)? else { return Ok(None) };
    if matches!(stage_of(hub, &round), Stage::Nominating | Stage::Reviewing) {
        return Ok(None);
    }
    let nominations = storage.nominations(&round.id)?;
    Ok(Some((round, nominations)))
}

pub(super) async fn round(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let hub = state.hub.clone();
    let found = tokio::task::spawn_blocking(move || public_round(&hub, &id).map(|f| f.map(|(r, n)| round_page(&hub, &hub.directory.org(), &r, &n, None)))).await;
    match found {
        Ok(Ok(Some(page))) => html(StatusCode::OK, page),
        Ok(Ok(None)) => not_found(),
        Ok(Err(e)) => failed(e),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ObjectionForm {
    #[serde(default)]
    nomination: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    contact: String,
}

pub(super) async fn object(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: Option<Extension<Client>>,
    form: Result<Form<ObjectionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let hub = state.hub.clone();
    let org = state.hub.directory.org();
    let found = {
        let (id, hub) = (id.clone(), hub.clone());
        tokio::task::spawn_blocking(move || public_round(&hub, &id)).await
    };
    let (round, nominations) = match found {
        Ok(Ok(Some(f))) => f,
        Ok(Ok(None)) => return not_found(),
        Ok(Err(e)) => return failed(e),
        Err(e) => return failed(e),
    };
    let office = format!("{}先锋办", unit_name(&org, &round.node));
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return unreadable(&office, &e),
    };
    if stage_of(&hub, &round) != Stage::Publicity {
        return html(StatusCode::CONFLICT, pages::message(&office, "公示已结束", "公示期已过，不再受理网上异议。"));
    }
    let again = |error: &str| html(StatusCode::BAD_REQUEST, round_page(&hub, &org, &round, &nominations, Some((error, &form))));
    let Some(nomination) = nominations.iter().find(|n| n.id == form.nomination && n.shortlisted) else { return again("请选择对哪一位（哪个集体）有异议") };
    let (words, contact) = match check_objection(&form.text, &form.contact) {
        Ok(checked) => checked,
        Err(e) => return again(&e),
    };
    let counted = match admit(&state.board, &client, &headers, None).await {
        Ok(c) => c,
        Err(t) => return t.response(&office),
    };
    let storage = state.hub.storage.clone();
    let objection = Objection {
        id: crate::directory::random_id(),
        round: round.id.clone(),
        nomination: nomination.id.clone(),
        text: words,
        contact,
        filed_at: now_ms(),
        finding: String::new(),
        upheld: false,
        settled_by: String::new(),
        settled_at: 0,
    };
    let stored = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        if storage.objections(&objection.round)?.len() >= MAX_OBJECTIONS_PER_ROUND {
            return Ok(false);
        }
        storage.put_objection(&objection).map(|()| true)
    })
    .await;
    match stored {
        Ok(Ok(true)) => html(StatusCode::OK, pages::message(&office, "异议已收到", "先锋办将逐条核查，核查办结前不作表彰决定。感谢您的监督。")),
        Ok(Ok(false)) => {
            give_back(&state.board, counted);
            html(StatusCode::TOO_MANY_REQUESTS, pages::message(&office, "网上异议已满", &format!("请直接向{office}反映。")))
        }
        Ok(Err(e)) => {
            give_back(&state.board, counted);
            failed(e)
        }
        Err(e) => {
            give_back(&state.board, counted);
            failed(e)
        }
    }
}
