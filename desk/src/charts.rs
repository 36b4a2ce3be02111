//! Charts drawn in the page as SVG (no chart library: three bar charts are a few rectangles
//! each, and SVG prints sharply): problems raised and resolved per month, problems by category,
//! satisfaction per survey round.

use ledger::report::Series;
use leptos::prelude::*;

const RAISED: &str = "#c8102e";
const RESOLVED: &str = "#2e6e3e";

/// The largest value, at least 1 (so an empty chart still has a scale).
fn top(values: impl Iterator<Item = usize>) -> f64 {
    values.max().unwrap_or(0).max(1) as f64
}

/// Problems raised vs resolved per month, as pairs of columns.
#[component]
pub fn Monthly(series: Series) -> impl IntoView {
    let (w, h, pad) = (640.0, 200.0, 28.0);
    let n = series.months.len().max(1) as f64;
    let slot = (w - pad) / n;
    let max = top(series.months.iter().flat_map(|m| [m.raised, m.resolved]));
    let bar = |v: usize| (v as f64 / max) * (h - 2.0 * pad);
    let columns = series
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let x = pad + i as f64 * slot;
            let bw = (slot * 0.35).min(28.0);
            let (hr, hs) = (bar(m.raised), bar(m.resolved));
            view! {
                <g>
                    <rect x=x + slot * 0.12 y=h - pad - hr width=bw height=hr fill=RAISED><title>{format!("{}年{}月 登记 {}", m.year, m.month, m.raised)}</title></rect>
                    <rect x=x + slot * 0.12 + bw + 2.0 y=h - pad - hs width=bw height=hs fill=RESOLVED><title>{format!("{}年{}月 办结 {}", m.year, m.month, m.resolved)}</title></rect>
                    <text x=x + slot * 0.12 y=h - pad - hr - 3.0 font-size="11">{m.raised}</text>
                    <text x=x + slot * 0.12 + bw + 2.0 y=h - pad - hs - 3.0 font-size="11">{m.resolved}</text>
                    <text x=x + slot * 0.12 y=h - 8.0 font-size="12">{format!("{}月", m.month)}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="chart-monthly">
            <figcaption>"问题登记与办结（按月）"<span class="key raised"></span>"登记"<span class="key resolved"></span>"办结"</figcaption>
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label="问题登记与办结（按月）">
                <line x1=pad y1=h - pad x2=w y2=h - pad stroke="#999"/>
                {columns}
            </svg>
        </figure>
    }
}

/// Problems raised in the period per category, as horizontal bars.
#[component]
pub fn ByCategory(series: Series, labels: Vec<String>) -> impl IntoView {
    let rows: Vec<(String, usize)> = labels.into_iter().zip(series.by_category.iter().copied()).filter(|(_, n)| *n > 0).collect();
    let (w, row_h, label_w) = (640.0, 22.0, 90.0);
    let h = (rows.len().max(1) as f64) * row_h + 8.0;
    let max = top(rows.iter().map(|r| r.1));
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let y = 4.0 + i as f64 * row_h;
            let bw = (n as f64 / max) * (w - label_w - 40.0);
            view! {
                <g>
                    <text x="0" y=y + 15.0 font-size="13">{label}</text>
                    <rect x=label_w y=y + 3.0 width=bw height=row_h - 6.0 fill=RAISED/>
                    <text x=label_w + bw + 4.0 y=y + 15.0 font-size="12">{n}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="chart-category">
            <figcaption>"问题类别分布"</figcaption>
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label="问题类别分布">{bars}</svg>
        </figure>
    }
}

/// Satisfaction per survey round (满意 + 基本满意 over all answers, every unit's answers).
#[component]
pub fn Rounds(series: Series) -> impl IntoView {
    let (w, row_h, label_w) = (640.0, 22.0, 220.0);
    let h = (series.rounds.len().max(1) as f64) * row_h + 8.0;
    let bars = series
        .rounds
        .iter()
        .enumerate()
        .map(|(i, round)| {
            let y = 4.0 + i as f64 * row_h;
            let rate = ledger::rate::per_mille(round.satisfied, round.answers);
            let bw = rate.unwrap_or(0) as f64 / 1000.0 * (w - label_w - 60.0);
            view! {
                <g>
                    <text x="0" y=y + 15.0 font-size="13">{round.title.clone()}</text>
                    <rect x=label_w y=y + 3.0 width=bw height=row_h - 6.0 fill=RESOLVED/>
                    <text x=label_w + bw + 4.0 y=y + 15.0 font-size="12">{format!("{}（{} 份答卷，{} 个回答）", ledger::rate::per_cent(rate), round.sheets, round.answers)}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="chart-rounds">
            <figcaption>"群众满意度测评（各轮）"</figcaption>
            {if series.rounds.is_empty() { view! { <p class="muted">"本期没有开展测评"</p> }.into_any() } else { view! { <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label="群众满意度测评">{bars}</svg> }.into_any() }}
        </figure>
    }
}
