//! One record as its unit's ledger holds it, read-only, with its log and its history (who
//! changed what, when); on a problem the supervisor writes a 督办意见, on a pledge an evaluation
//! (评议). Both go into the unit's ledger, so the unit's phones receive them with their next sync.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, local_time, RecordView};
use crate::supervise::{answer, fetch, Desk};

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn label(v: &Value, key: &str, from_code: fn(&str) -> Option<&'static str>) -> String {
    let code = text(v, key);
    from_code(&snake(&code)).map(str::to_owned).unwrap_or(code)
}

/// Serde writes enum variants by name (`InProgress`); the codes are snake case.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn log_lines(entries: &Value) -> impl IntoView {
    let lines: Vec<_> = entries
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let entry: Option<ledger::record::LogEntry> = serde_json::from_value(e).ok();
            entry.map(|e| view! { <li>{local_time(e.at / 1000)}" · "{e.by.clone()}" · "{ledger::problem::describe_entry(&e)}<Photos photos=e.photos.clone()/></li> })
        })
        .collect();
    view! { <ul class="log">{lines}</ul> }
}

/// A record's photos, each opening whole. One its phone has not uploaded yet (or that cannot
/// be read now) says so in words instead of showing a broken image.
#[component]
fn Photos(photos: Vec<ledger::photo::PhotoRef>) -> impl IntoView {
    (!photos.is_empty()).then(|| {
        let items = photos
            .into_iter()
            .map(|p| {
                let url = format!("/api/photos/{}", p.hash);
                let failed = RwSignal::new(false);
                view! {
                    <li>
                        <Show when=move || !failed.get() fallback=|| view! { <span class="photo-missing">"照片待上传"</span> }>
                            <a href=url.clone() target="_blank" rel="noopener"><img src=url.clone() alt="照片" loading="lazy" on:error=move |_| failed.set(true)/></a>
                        </Show>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="photos" data-testid="photos">{items}</ul> }
    })
}

/// Where the record was made, when its cadre tapped 记录位置.
fn place(v: &Value) -> Option<impl IntoView> {
    let location: ledger::photo::Location = serde_json::from_value(v["location"].clone()).ok()?;
    Some(view! { <p class="location" data-testid="location">"位置：" {location.label()} " " <a href=location.map_link() target="_blank" rel="noopener">"在地图中查看"</a></p> })
}

#[component]
pub fn RecordPage(ledger: String, section: String, id: String) -> impl IntoView {
    let url = format!("/api/desk/records/{ledger}/{section}/{id}");
    let post_url = format!("{url}/remarks");
    let (url, data) = fetch::<RecordView>(move || url.clone());
    let notice = expect_context::<Desk>().notice;
    let back = move |_| {
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = h.back();
        }
    };
    view! {
        <p><button class="plain" on:click=back>"← 返回"</button></p>
        <crate::org_tree::Outcome message=notice/>
        {answer(url, data, move |r: RecordView| view! { <RecordBody record=r post_url=post_url.clone()/> })}
    }
}

/// The board's poster of a record residents may rate: a post or pledge the board shows (by the
/// ledger's own rule for what it shows).
fn poster(record: &RecordView) -> Option<String> {
    let v = record.record.clone();
    let (kind, id) = match record.section.as_str() {
        "posts" => serde_json::from_value::<ledger::Post>(v).ok().filter(|p| p.is_public()).map(|p| ("post", p.id))?,
        "pledges" => serde_json::from_value::<ledger::Pledge>(v).ok().filter(|p| p.is_on_board()).map(|p| ("pledge", p.id))?,
        _ => return None,
    };
    Some(format!("/b/{}/poster/{kind}/{id}", record.unit))
}

#[component]
fn RecordBody(record: RecordView, post_url: String) -> impl IntoView {
    let v = record.record.clone();
    let problem = record.section == "problems";
    let fields: Vec<(&str, String)> = match record.section.as_str() {
        "problems" => vec![
            ("问题", text(&v, "title")),
            ("状态", label(&v, "status", |c| ledger::problem::Status::from_code(c).map(|s| s.label()))),
            ("类别", label(&v, "category", |c| ledger::problem::Category::from_code(c).map(|s| s.label()))),
            ("紧急程度", label(&v, "urgency", |c| ledger::problem::Urgency::from_code(c).map(|s| s.label()))),
            ("企业", record.enterprise.clone().unwrap_or_default()),
            ("困难类型", label(&v, "difficulty", |c| ledger::problem::Difficulty::from_code(c).map(|s| s.label()))),
            ("反映人", label(&v, "raised_by", |c| ledger::problem::RaisedBy::from_code(c).map(|s| s.label()))),
            ("责任人", text(&v, "responsible")),
            ("办结时限", text(&v, "deadline")),
            ("问题描述", text(&v, "description")),
            ("办理结果", text(&v, "result")),
            ("回访", label(&v, "satisfaction", |c| ledger::Satisfaction::from_code(c).map(|s| s.label()))),
        ],
        "pledges" => vec![
            ("承诺内容", text(&v, "content")),
            ("承诺人", text(&v, "by")),
            ("期限", text(&v, "due")),
            ("公开", if v["public"] == true { "公开".into() } else { "内部".into() }),
            ("兑现", if v["fulfilled"] == true { "已兑现".into() } else { "未兑现".into() }),
            ("先锋广场", if v["published"] == true && v["public"] == true { "已公开".into() } else { "未公开".into() }),
        ],
        "posts" => vec![
            ("岗位", text(&v, "title")),
            ("责任人", text(&v, "holder")),
            ("岗位职责", text(&v, "duties")),
            ("服务时间", text(&v, "hours")),
            ("先锋广场", if v["published"] == true { "已公开".into() } else { "未公开".into() }),
        ],
        "visits" => {
            vec![("走访对象", text(&v, "whom")), ("日期", text(&v, "date")), ("地点", text(&v, "place")), ("走访情况", text(&v, "heard")), ("意见建议", text(&v, "opinions"))]
        }
        _ => vec![("名称", text(&v, "title"))],
    };
    let fields = fields.into_iter().filter(|(_, value)| !value.is_empty()).map(|(k, value)| view! { <dt>{k}</dt><dd>{value}</dd> }).collect_view();
    let history = record.history.iter().map(|h| view! { <li>{local_time(h.at)}" · "{h.by.clone()}" · "{h.summary.clone()}</li> }).collect_view();
    let log = if problem { v["log"].clone() } else { v["progress"].clone() };
    let remarks = if problem { v["supervision"].clone() } else { Value::Null };
    let evaluations: Vec<_> = v["evaluations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| view! { <li>{local_time(e["at"].as_i64().unwrap_or(0) / 1000)}" · "{text(&e, "by")}" · "{label(&e, "rating", |c| ledger::Satisfaction::from_code(c).map(|s| s.label()))}" "{text(&e, "comment")}</li> })
        .collect();
    view! {
        <section class="card record" data-testid="record">
            <h2>{record.unit_path.clone()}</h2>
            <dl class="fields">{fields}</dl>
            <Photos photos=serde_json::from_value(v["photos"].clone()).unwrap_or_default()/>
            {place(&v)}
            // A published post's or pledge's A4 poster with the QR code residents scan to rate it.
            {poster(&record).map(|href| view! {
                <p><a href=href target="_blank" rel="noopener" data-testid="poster">"打印评价海报"</a></p>
            })}
            <h3>{if problem { "办理过程" } else { "践诺进展" }}</h3>
            {log_lines(&log)}
            {problem.then(|| view! { <h3>"督办意见"</h3>{log_lines(&remarks)} })}
            {(!problem && !evaluations.is_empty()).then(|| view! { <h3>"评议"</h3><ul class="log">{evaluations}</ul> })}
            {record.may_remark.then(|| view! { <RemarkForm problem=problem post_url=post_url.clone()/> })}
            <h3>"修改记录"</h3>
            <ul class="log history" data-testid="history">{history}</ul>
        </section>
    }
}

#[component]
fn RemarkForm(problem: bool, post_url: String) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let text = RwSignal::new(String::new());
    let rating = RwSignal::new("satisfied".to_owned());
    let outcome = desk.notice;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = http_api::desk::Remark { text: text.get_untracked(), rating: (!problem).then(|| rating.get_untracked()), step: None };
        let url = post_url.clone();
        spawn_local(async move {
            match api::post::<http_api::Done>(&url, &body).await {
                Ok(_) => {
                    text.set(String::new());
                    outcome.set(Some(Ok("已写入该单位台账，单位干部下次同步后即可看到".into())));
                    desk.reloads.update(|n| *n += 1);
                }
                Err(e) => outcome.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <form class="remark" on:submit=submit>
            <h3>{if problem { "写督办意见" } else { "督查评议" }}</h3>
            {(!problem).then(|| view! {
                <label>"评议结果"
                    <select name="rating" prop:value=rating on:change=move |ev| rating.set(event_target_value(&ev))>
                        {ledger::Satisfaction::ALL.iter().map(|s| view! { <option value=s.code()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <textarea name="remark" rows="3" maxlength="5000" placeholder=if problem { "例如：请于本周五前办结并回访群众" } else { "评议意见（评为不满意时必填）" } bind:value=text></textarea>
            <button type="submit" class="primary">"提交"</button>
        </form>
    }
}
