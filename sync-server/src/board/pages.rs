//! The public board's pages as residents receive them: plain HTML with one inline style sheet,
//! no script, no font, no WebAssembly, readable on a small phone in sunlight and light enough
//! for a QR scan on a weak signal. Every text from a ledger is escaped here.

use chrono::NaiveDate;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use ledger::board::{Distribution, PublicBoard, PublicCase};
use ledger::rating::{CaseState, StepKind};
use ledger::Verdict;

/// The one style sheet, inline in every page (its hash is in the pages' CSP).
pub(super) const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:17px/1.6 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;color:#111;background:#f4f4f4}\
header{background:#b71c1c;color:#fff;padding:14px 16px}\
header h1{margin:0;font-size:21px}header p{margin:2px 0 0;font-size:15px}\
main{max-width:640px;margin:0 auto;padding:8px 12px 40px}\
h2{font-size:19px;margin:22px 4px 8px;border-left:5px solid #b71c1c;padding-left:8px}\
.card{background:#fff;border-radius:10px;padding:12px 14px;margin:10px 0;box-shadow:0 1px 2px #0002}\
.card h3{margin:0 0 4px;font-size:18px}.meta{color:#444;font-size:15px}\
.tag{display:inline-block;padding:0 8px;border-radius:9px;font-size:14px;background:#e8f5e9;color:#1b5e20}\
.tag.late{background:#ffebee;color:#b71c1c}.tag.wait{background:#fff8e1;color:#6d4c00}\
.btn{display:block;width:100%;text-align:center;background:#b71c1c;color:#fff;border:0;border-radius:10px;\
padding:14px;font-size:18px;font-weight:600;text-decoration:none;margin:12px 0}\
.btn.light{background:#fff;color:#b71c1c;border:2px solid #b71c1c}\
.levels label{display:block;background:#fff;border:2px solid #ccc;border-radius:10px;padding:12px 14px;margin:8px 0;font-size:18px}\
.levels input{width:22px;height:22px;vertical-align:-4px;margin-right:10px}\
.levels input:checked+span{font-weight:700}\
textarea,input[type=tel],input[type=text]{width:100%;font-size:17px;padding:10px;border:2px solid #bbb;border-radius:8px}\
textarea{min-height:96px}label.f{display:block;margin:14px 0 4px;font-weight:600}\
.err{color:#b71c1c;font-weight:600}.note{color:#444;font-size:15px}\
.bars{margin:6px 0 0;font-size:14px}.bars div{display:flex;align-items:center;gap:6px}\
.bars span{display:inline-block;width:6em}.bars progress{width:120px;height:10px;accent-color:#c62828}\
.reply{border-left:4px solid #2e7d32;padding-left:8px;margin-top:6px}\
footer{text-align:center;color:#555;font-size:14px;padding:20px}";

/// The page around `body`.
pub(super) fn page(title: &str, unit: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{} · {}</title><style>{STYLE}</style></head><body>\
<header><h1>先锋广场</h1><p>{}</p></header><main>{body}</main>\
<footer>科学发展当先锋 · 接受群众监督评议</footer></body></html>",
        text(title),
        text(unit),
        text(unit),
    )
}

fn day(d: Option<NaiveDate>) -> String {
    d.map_or_else(String::new, |d| d.format("%Y年%-m月%-d日").to_string())
}

/// At most `max` characters of a text, for lists.
fn cut(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

fn distribution(d: Option<Distribution>) -> String {
    let Some(d) = d else { return String::new() };
    let total = d.total();
    let rows: String = Verdict::ALL.iter().zip(d.0).map(|(v, n)| format!("<div><span>{}</span><progress max=\"{total}\" value=\"{n}\"></progress>{n}</div>", v.label())).collect();
    format!("<div class=\"bars\"><div class=\"meta\">群众评价 {} 条，满意率 {}</div>{rows}</div>", d.total(), ledger::rate::per_cent_of(d.satisfied(), d.total()))
}

/// The unit's board: posts, pledges, answered questions, 差评 with replies.
/// `awards` is the 评先评优 sections, already rendered (`publicity::unit_sections`).
pub(super) fn board(unit: &str, base: &str, b: &PublicBoard, awards: &str, today: NaiveDate) -> String {
    let mut body = String::new();
    body.push_str(&format!("<a class=\"btn\" href=\"{}/ask\">我要留言（反映问题、提出建议）</a>", attr(base)));
    body.push_str(awards);
    body.push_str("<h2>岗位公示</h2>");
    if b.posts.is_empty() {
        body.push_str("<p class=\"note\">暂无公示的岗位。</p>");
    }
    for p in &b.posts {
        body.push_str(&format!(
            "<div class=\"card\"><h3>{}</h3><div class=\"meta\">责任人：{}{}</div><div>{}</div>{}<a class=\"btn light\" href=\"{}/rate/post/{}\">评价这个岗位</a></div>",
            text(&p.title),
            text(&p.holder),
            if p.hours.is_empty() { String::new() } else { format!(" · 服务时间：{}", text(&p.hours)) },
            text(&cut(&p.duties, 300)),
            distribution(p.ratings),
            attr(base),
            attr(p.id.as_str()),
        ));
    }
    body.push_str("<h2>服务承诺</h2>");
    if b.pledges.is_empty() {
        body.push_str("<p class=\"note\">暂无公开的承诺。</p>");
    }
    for p in &b.pledges {
        let state = if p.fulfilled {
            "<span class=\"tag\">已兑现</span>".to_owned()
        } else if p.due.is_some_and(|d| d < today) {
            "<span class=\"tag late\">已逾期</span>".to_owned()
        } else {
            "<span class=\"tag wait\">进行中</span>".to_owned()
        };
        let progress: String = p.progress.iter().take(3).map(|(on, t)| format!("<div class=\"meta\">{} {}</div>", day(*on), text(&cut(t, 200)))).collect();
        body.push_str(&format!(
            "<div class=\"card\"><h3>{}</h3><div class=\"meta\">承诺人：{} · 兑现期限：{} {state}</div>{progress}{}<a class=\"btn light\" href=\"{}/rate/pledge/{}\">评价这项承诺</a></div>",
            text(&cut(&p.content, 300)),
            text(&p.by),
            day(p.due),
            distribution(p.ratings),
            attr(base),
            attr(p.id.as_str()),
        ));
    }
    if !b.answers.is_empty() {
        body.push_str("<h2>群众留言答复</h2>");
    }
    for a in &b.answers {
        let label = if a.rejected { "说明" } else { "答复" };
        body.push_str(&format!(
            "<div class=\"card\"><h3>{}</h3><div class=\"meta\">{} 留言</div><div>{}</div><div class=\"reply\"><b>{label}：</b>{}</div></div>",
            text(&cut(&a.question, 80)),
            day(a.asked_on),
            text(&cut(&a.detail, 300)),
            text(&cut(&a.answer, 500)),
        ));
    }
    if !b.cases.is_empty() {
        body.push_str("<h2>差评及整改</h2>");
    }
    for c in &b.cases {
        body.push_str(&case_card(c, today));
    }
    page("单位公示", unit, &body)
}

fn case_card(c: &PublicCase, today: NaiveDate) -> String {
    let reply = match &c.reply {
        Some((kind, words)) => {
            let label = match kind {
                StepKind::Withdraw => "督查组撤销了这条差评",
                StepKind::Rectify => "整改",
                _ => "解释",
            };
            format!("<div class=\"reply\"><b>{label}：</b>{}</div>", text(&cut(words, 500)))
        }
        None => String::new(),
    };
    let tag = match c.state {
        CaseState::Answered | CaseState::Withdrawn => "tag",
        _ => "tag wait",
    };
    // What the unit owes, and by when: the public holds it to its limits.
    let owed = match (c.state, c.due) {
        (CaseState::Open | CaseState::Acknowledged, Some(due)) => {
            let step = if c.state == CaseState::Open { "签收" } else { "答复" };
            let late = if today > due { " <span class=\"tag late\">已逾期</span>" } else { "" };
            format!("<div class=\"meta\">应于 {due} 前{step}{late}</div>")
        }
        _ => String::new(),
    };
    format!(
        "<div class=\"card\"><div class=\"meta\">{} · 评价“{}”：{} <span class=\"{tag}\">{}</span></div><div>{}</div>{owed}{reply}</div>",
        day(c.on),
        text(&c.about),
        c.verdict.label(),
        c.state.label(),
        text(&cut(&c.comment, 300)),
    )
}

/// Errors and a form's previous values, to show it again.
#[derive(Default)]
pub(super) struct Filled<'a> {
    pub errors: Vec<String>,
    pub verdict: &'a str,
    pub comment: &'a str,
    pub phone: &'a str,
}

fn errors(e: &[String]) -> String {
    e.iter().map(|m| format!("<p class=\"err\">{}</p>", text(m))).collect()
}

/// The five levels as radio buttons, `chosen` checked (a form shown again), else none.
fn levels(chosen: &str) -> String {
    Verdict::ALL
        .iter()
        .map(|v| {
            let checked = if chosen == v.code() { " checked" } else { "" };
            format!("<label><input type=\"radio\" name=\"verdict\" value=\"{}\" required{checked}><span>{}</span></label>", v.code(), v.label())
        })
        .collect()
}

/// The rating form for `what` (a post's title, a pledge's content). Nothing is pre-selected.
pub(super) fn rate_form(unit: &str, what: &str, action: &str, f: &Filled<'_>) -> String {
    let levels = levels(f.verdict);
    let body = format!(
        "<div class=\"card\"><div class=\"meta\">您正在评价</div><h3>{}</h3></div>{}\
<form method=\"post\" action=\"{}\"><div class=\"levels\">{levels}</div>\
<label class=\"f\" for=\"comment\">意见或建议（差评请写明原因）</label>\
<textarea id=\"comment\" name=\"comment\" maxlength=\"{}\">{}</textarea>\
<label class=\"f\" for=\"phone\">手机号（选填，仅供回访，只有本单位书记可见，不公开）</label>\
<input id=\"phone\" type=\"tel\" name=\"phone\" maxlength=\"20\" value=\"{}\" autocomplete=\"tel\">\
<p class=\"note\">评价不记名。差评及单位的答复会在本页公开，不显示您的任何信息。</p>\
<button class=\"btn\" type=\"submit\">提交评价</button></form>",
        text(&cut(what, 200)),
        errors(&f.errors),
        attr(action),
        ledger::rating::MAX_COMMENT,
        text(f.comment),
        attr(f.phone),
    );
    page("评价", unit, &body)
}

/// Thanks, once stored; for a 差评, the link to follow its case (and rate the answer once).
pub(super) fn rated(unit: &str, board: &str, case_link: Option<&str>) -> String {
    let follow = case_link.map_or_else(String::new, |l| {
        format!(
            "<div class=\"card\"><p>单位须在规定时限内签收并答复。请保存下面的链接，可随时查看办理情况，并对答复作出一次评价：</p><a class=\"btn light\" href=\"{}\">查看办理情况</a></div>",
            attr(l)
        )
    });
    page("已收到", unit, &format!("<div class=\"card\"><h3>已收到您的评价，谢谢！</h3></div>{follow}<a class=\"btn light\" href=\"{}\">返回单位公示</a>", attr(board)))
}

pub(super) struct AskFilled<'a> {
    pub errors: Vec<String>,
    pub title: &'a str,
    pub detail: &'a str,
    pub phone: &'a str,
}

pub(super) fn ask_form(unit: &str, action: &str, f: &AskFilled<'_>) -> String {
    let body = format!(
        "<div class=\"card\"><h3>我要留言</h3><p class=\"note\">反映问题或提出建议，单位会登记办理，办结后在本页公开答复（不显示您的任何信息）。</p></div>{}\
<form method=\"post\" action=\"{}\">\
<label class=\"f\" for=\"title\">一句话说明</label><input id=\"title\" type=\"text\" name=\"title\" maxlength=\"{}\" required value=\"{}\">\
<label class=\"f\" for=\"detail\">详细情况</label><textarea id=\"detail\" name=\"detail\" maxlength=\"{}\">{}</textarea>\
<label class=\"f\" for=\"phone\">手机号（选填，便于回访，不公开）</label>\
<input id=\"phone\" type=\"tel\" name=\"phone\" maxlength=\"20\" value=\"{}\" autocomplete=\"tel\">\
<button class=\"btn\" type=\"submit\">提交留言</button></form>",
        errors(&f.errors),
        attr(action),
        super::MAX_QUESTION_TITLE,
        attr(f.title),
        super::MAX_QUESTION_DETAIL,
        text(f.detail),
        attr(f.phone),
    );
    page("留言", unit, &body)
}

pub(super) fn asked(unit: &str, board: &str) -> String {
    page(
        "已收到",
        unit,
        &format!(
            "<div class=\"card\"><h3>已收到您的留言，谢谢！</h3><p>单位会登记办理，办结后在单位公示页公开答复。</p></div><a class=\"btn light\" href=\"{}\">返回单位公示</a>",
            attr(board)
        ),
    )
}

/// A resident's own 差评: where its case stands, the reply, and the one recheck.
pub(super) fn case_page(unit: &str, board: &str, c: &PublicCase, today: NaiveDate, recheck: Option<&str>, rechecked: Option<Verdict>, f: &Filled<'_>) -> String {
    let mut body = format!("<div class=\"card\"><h3>您的评价办理情况</h3></div>{}", case_card(c, today));
    match (rechecked, recheck) {
        (Some(v), _) => body.push_str(&format!("<div class=\"card\">您对答复的评价：{}</div>", v.label())),
        (None, Some(action)) => {
            let levels = levels(f.verdict);
            body.push_str(&format!(
                "<h2>对答复作出评价（只能一次）</h2>{}<form method=\"post\" action=\"{}\"><div class=\"levels\">{levels}</div>\
<label class=\"f\" for=\"comment\">意见（选填）</label><textarea id=\"comment\" name=\"comment\" maxlength=\"{}\">{}</textarea>\
<button class=\"btn\" type=\"submit\">提交</button></form>",
                errors(&f.errors),
                attr(action),
                ledger::rating::MAX_COMMENT,
                text(f.comment)
            ));
        }
        (None, None) => body.push_str("<p class=\"note\">单位答复后，您可以在这里对答复作出一次评价。</p>"),
    }
    body.push_str(&format!("<a class=\"btn light\" href=\"{}\">返回单位公示</a>", attr(board)));
    page("办理情况", unit, &body)
}

/// A plain message page (not found, too many, refused), in the board's look.
pub(super) fn message(unit: &str, title: &str, words: &str) -> String {
    page(title, unit, &format!("<div class=\"card\"><h3>{}</h3><p>{}</p></div>", text(title), text(words)))
}

/// An A4 poster for the wall of a service window: what to rate, and its QR code.
pub(super) fn poster(unit: &str, heading: &str, what: &str, detail: &str, url: &str, qr_svg: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{} · 评价二维码</title><style>{POSTER_STYLE}</style></head><body>\
<div class=\"sheet\"><p class=\"unit\">{}</p><h1>{}</h1><h2>{}</h2><p class=\"detail\">{}</p><div class=\"qr\">{qr_svg}</div>\
<p class=\"scan\">微信或手机浏览器扫码，对我们的服务作出评价</p><p class=\"url\">{}</p>\
<p class=\"small\">评价不记名 · 差评及答复在“先锋广场”公开 · 接受群众监督</p></div></body></html>",
        text(unit),
        text(unit),
        text(heading),
        text(&cut(what, 80)),
        text(&cut(detail, 160)),
        text(url),
    )
}

pub(super) const POSTER_STYLE: &str = "\
@page{size:A4;margin:0}*{box-sizing:border-box}\
body{margin:0;font-family:'PingFang SC','Microsoft YaHei',system-ui,sans-serif;color:#111}\
.sheet{width:210mm;min-height:297mm;padding:22mm 18mm;text-align:center;border-top:14mm solid #b71c1c}\
.unit{font-size:22pt;margin:0}h1{font-size:40pt;margin:8mm 0 4mm;color:#b71c1c}\
h2{font-size:24pt;margin:0 0 4mm}.detail{font-size:15pt;color:#333}\
.qr svg{width:110mm;height:110mm}.scan{font-size:18pt;font-weight:700}\
.url{font-size:10pt;color:#555;word-break:break-all}.small{font-size:12pt;color:#444;margin-top:10mm}";
