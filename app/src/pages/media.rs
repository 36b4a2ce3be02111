//! Photos and the place on a record (照片、位置), always optional: the form's photo field and
//! 记录位置 button, and how a record shows them. A photo is stored on this phone the moment it
//! is taken (the worker resizes it and drops its EXIF); the record gets its reference on save,
//! and the worker uploads it once the record has synced.

use ledger::photo::{Location, LocationEdit, MediaEdit, PhotoRef, MAX_PHOTOS};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::service::LedgerService;

/// Where a photo is read: the service worker answers from this phone's store, else the server.
pub fn photo_url(hash: &str) -> String {
    format!("/api/photos/{hash}")
}

/// The photo field and 记录位置 of a form. `current` is what the record holds now; `edit`
/// collects what this form changes (added, taken off, the place), sent with the save.
#[component]
pub fn MediaField(current: Vec<PhotoRef>, location: Option<Location>, edit: RwSignal<MediaEdit>, #[prop(optional)] no_location: bool) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let busy = RwSignal::new(0usize);
    let problem = RwSignal::new(None::<String>);
    let current = StoredValue::new(current);
    // What the form shows: the record's photos not taken off, then those added here.
    let shown = move || {
        let mut all: Vec<PhotoRef> = current.with_value(|c| c.iter().filter(|p| edit.with(|e| !e.remove.contains(&p.hash))).cloned().collect());
        all.extend(edit.with(|e| e.add.clone()));
        all
    };
    let room = move || MAX_PHOTOS.saturating_sub(shown().len() + busy.get());
    let take = move |input: web_sys::HtmlInputElement| {
        let files = input.files();
        let count = files.as_ref().map_or(0, |f| f.length());
        let mut taken = Vec::new();
        for i in 0..count {
            if let Some(file) = files.as_ref().and_then(|f| f.get(i)) {
                taken.push(file);
            }
        }
        input.set_value("");
        let fits = room();
        if taken.len() > fits {
            problem.set(Some(format!("一条记录最多 {MAX_PHOTOS} 张照片，多出的 {} 张没有加入。", taken.len() - fits)));
            taken.truncate(fits);
        } else {
            problem.set(None);
        }
        for file in taken {
            busy.update(|b| *b += 1);
            let started = crate::browser::perf_now();
            leptos::task::spawn_local(async move {
                let result = service.add_photo(file).await;
                crate::browser::measure_since("pioneer:photo-stored", started);
                busy.try_update(|b| *b -= 1);
                match result {
                    Ok(photo) => {
                        edit.try_update(|e| {
                            if !e.add.iter().any(|p| p.hash == photo.hash) {
                                e.remove.retain(|h| *h != photo.hash);
                                e.add.push(photo);
                            }
                        });
                    }
                    Err(why) => {
                        problem.try_set(Some(why));
                    }
                }
            });
        }
    };
    let remove = move |hash: String| {
        edit.update(|e| {
            let before = e.add.len();
            e.add.retain(|p| p.hash != hash);
            if e.add.len() == before && !e.remove.contains(&hash) {
                e.remove.push(hash);
            }
        });
    };
    view! {
        <fieldset class="media-field" data-testid="media-field">
            <legend>"照片（选填，最多 " {MAX_PHOTOS} " 张）"</legend>
            <ul class="photo-grid">
                {move || shown().into_iter().map(|p| {
                    let hash = p.hash.clone();
                    view! {
                        <li>
                            <img src=photo_url(&p.hash) alt="照片" loading="lazy"/>
                            <button type="button" class="photo-remove" aria-label="删除这张照片" on:click=move |_| remove(hash.clone())>"×"</button>
                        </li>
                    }
                }).collect_view()}
                {move || (busy.get() > 0).then(|| view! { <li class="photo-busy">"正在处理…"</li> })}
            </ul>
            <Show when=move || { room() > 0 }>
                <div class="photo-buttons">
                    <label class="button secondary">"拍照"
                        <input type="file" accept="image/*" capture="environment" class="visually-hidden" data-testid="photo-camera"
                            on:change=move |ev| take(event_target::<web_sys::HtmlInputElement>(&ev))/>
                    </label>
                    <label class="button secondary">"从相册选"
                        <input type="file" accept="image/*" multiple class="visually-hidden" data-testid="photo-gallery"
                            on:change=move |ev| take(event_target::<web_sys::HtmlInputElement>(&ev))/>
                    </label>
                </div>
            </Show>
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            {(!no_location).then(|| view! { <LocationButton current=location edit/> })}
        </fieldset>
    }
}

/// 记录位置: asks the browser for the place once, on this tap only.
#[component]
fn LocationButton(current: Option<Location>, edit: RwSignal<MediaEdit>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let place = move || match edit.with(|e| e.location) {
        LocationEdit::Keep => current,
        LocationEdit::Set(l) => Some(l),
        LocationEdit::Clear => None,
    };
    let locate = move |_| {
        asking.set(true);
        problem.set(None);
        // The reading is read by name: web-sys types it only behind its unstable APIs.
        let done = Closure::once_into_js(move |position: JsValue| {
            let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or(JsValue::UNDEFINED);
            let number = |key: &str| js_sys::Reflect::get(&coords, &key.into()).ok().and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            asking.try_set(false);
            match Location::from_degrees(number("latitude"), number("longitude"), number("accuracy"), crate::browser::now_ms()) {
                Ok(l) => {
                    edit.try_update(|e| e.location = LocationEdit::Set(l));
                }
                Err(why) => {
                    problem.try_set(Some(why));
                }
            }
        });
        let failed = Closure::once_into_js(move |error: JsValue| {
            asking.try_set(false);
            let code = js_sys::Reflect::get(&error, &"code".into()).ok().and_then(|c| c.as_f64()).unwrap_or(0.0) as u32;
            let why = match code {
                1 => "没有定位权限：请在浏览器设置中允许本站使用位置。",
                3 => "定位超时，请到开阔处再试。",
                _ => "暂时无法定位，请稍后再试。",
            };
            problem.try_set(Some(why.into()));
        });
        let options = web_sys::PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(20_000);
        options.set_maximum_age(60_000);
        let located = web_sys::window()
            .and_then(|w| w.navigator().geolocation().ok())
            .map(|g| g.get_current_position_with_error_callback_and_options(done.unchecked_ref(), Some(failed.unchecked_ref()), &options).is_ok());
        if located != Some(true) {
            asking.set(false);
            problem.set(Some("这个浏览器不能定位。".into()));
        }
    };
    view! {
        <div class="location-field">
            {move || match place() {
                Some(l) => view! {
                    <p class="location" data-testid="location">{l.label()}</p>
                    <button type="button" class="button secondary small" on:click=move |_| edit.update(|e| e.location = LocationEdit::Clear)>"清除位置"</button>
                }.into_any(),
                None => view! {
                    <button type="button" class="button secondary" data-testid="locate" disabled=move || asking.get() on:click=locate>
                        {move || if asking.get() { "正在定位…" } else { "记录位置" }}
                    </button>
                }.into_any(),
            }}
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
        </div>
    }
}

/// A record's photos as thumbnails (each opens whole), with 待上传 on those this phone has not
/// uploaded yet.
#[component]
pub fn PhotoStrip(photos: Vec<PhotoRef>) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    (!photos.is_empty()).then(|| {
        view! {
            <ul class="photo-grid" data-testid="photos">
                {photos.into_iter().map(|p| {
                    let waiting = { let hash = p.hash.clone(); move || service.photos.with(|r| r.waiting.contains(&hash)) };
                    view! {
                        <li>
                            <a href=photo_url(&p.hash) target="_blank"><img src=photo_url(&p.hash) alt="照片" loading="lazy"/></a>
                            <Show when=waiting><span class="photo-badge">"待上传"</span></Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    })
}

/// The place a record was made, with a link that opens it in a map.
#[component]
pub fn LocationLine(location: Option<Location>) -> impl IntoView {
    location.map(|l| {
        view! {
            <p class="location" data-testid="location">"位置：" {l.label()} " " <a href=l.map_link() target="_blank" rel="noopener">"在地图中查看"</a></p>
        }
    })
}

/// Why photos stopped uploading (the server's quota is full), said where the person sees it.
#[component]
pub fn PhotoNotice() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    move || service.photos.with(|r| r.problem.clone()).map(|p| view! { <p class="notice" role="status" data-testid="photo-problem">"照片暂停上传：" {p}</p> })
}

/// How much space photos may take on this phone, and what happens when it is full.
#[component]
pub fn PhotoSpaceSetting() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let chosen = RwSignal::new(crate::settings::PHOTO_SPACE.get().unwrap_or(ledger::photo::shelf::DEFAULT_SPACE));
    let mb = |bytes: u64| bytes / (1024 * 1024);
    view! {
        <section class="setting">
            <label class="field">"手机上的照片最多占用"
                <select data-testid="photo-space" on:change=move |ev| {
                    if let Ok(bytes) = event_target_value(&ev).parse::<u64>() {
                        chosen.set(bytes);
                        service.set_photo_space(bytes);
                    }
                }>
                    {ledger::photo::shelf::SPACE_CHOICES.into_iter().map(|bytes| view! {
                        <option value=bytes.to_string() selected=move || chosen.get() == bytes>{format!("{} MB", mb(bytes))}</option>
                    }).collect_view()}
                </select>
            </label>
            <p class="muted small">
                "现占用 " {move || ledger::photo::shelf::megabytes(service.photos.with(|r| r.bytes))} " MB。"
                "占满时先清理已上传到服务器的照片（联网后仍可查看）；还没上传的照片不会被清理，这时新照片存不下，会提示先联网上传或调大空间。"
            </p>
        </section>
    }
}
