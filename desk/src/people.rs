//! People (人员): who holds which role where, adding a person or a role, and one-time
//! activation codes for phones, shown as text and as a QR code.

use http_api::admin::{ForPerson, IssuedCode, IssuedToken, NewGrant, NewPerson};
use ledger::org::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, OrgView};
use crate::app::Directory;
use crate::org_tree::Outcome;

/// A secret just issued, for the person it was issued to: a phone's activation code, or a
/// token for a third-party automerge-repo peer (shown once; only its hash is kept).
#[derive(Clone, PartialEq)]
enum Issued {
    Code { name: String, code: String, days: u64 },
    Token { name: String, device: String, token: String },
}

/// The address a phone's camera opens from the QR code: the app, with the code filled in (in
/// the fragment, which never reaches a server's logs).
pub fn activation_link(code: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/#activate={code}")
}

/// The activation address as a QR code, drawn as SVG (the phone's camera opens it; the person
/// may also type the code).
fn qr_svg(code: &str) -> String {
    match qrcode::QrCode::new(activation_link(code).as_bytes()) {
        Ok(qr) => qr.render::<qrcode::render::svg::Color>().min_dimensions(180, 180).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

#[component]
pub fn People(org: OrgView) -> impl IntoView {
    let directory = expect_context::<Directory>();
    let units: Vec<(String, String)> = org.org().tree_order().into_iter().map(|(d, u)| (u.id.clone(), format!("{}{}", "　".repeat(d), u.name))).collect();
    let first_unit = units.first().map(|u| u.0.clone()).unwrap_or_default();
    let issued = RwSignal::new(None::<Issued>);
    let message = directory.message;
    let issue = move |person: String, name: String| {
        spawn_local(async move {
            match api::post::<IssuedCode>("/api/admin/codes", &ForPerson { person, device: String::new() }).await {
                Ok(answer) => issued.set(Some(Issued::Code { name, code: answer.code, days: answer.expires_in_days })),
                Err(e) => message.set(Some(Err(e.message()))),
            }
        })
    };
    let issue_token = move |person: String, name: String| {
        let device =
            web_sys::window().and_then(|w| w.prompt_with_message("接口令牌用于第三方系统同步（automerge-repo）。请填写使用它的系统名称：").ok().flatten()).unwrap_or_default();
        let device = device.trim().to_owned();
        if device.is_empty() {
            return;
        }
        spawn_local(async move {
            match api::post::<IssuedToken>("/api/admin/tokens", &ForPerson { person, device: device.clone() }).await {
                Ok(answer) => issued.set(Some(Issued::Token { name, device, token: answer.token })),
                Err(e) => message.set(Some(Err(e.message()))),
            }
        })
    };
    let mut people = org.people.clone();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let rows: Vec<_> = people
        .into_iter()
        .map(|p| {
            let roles: Vec<String> = org
                .grants
                .iter()
                .filter(|g| g.person == p.id)
                .map(|g| format!("{} · {}", org.units.iter().find(|u| u.id == g.unit).map(|u| u.name.clone()).unwrap_or_default(), g.role.label()))
                .collect();
            let (id, name) = (p.id.clone(), p.name.clone());
            let (token_id, token_name) = (p.id.clone(), p.name.clone());
            view! {
                <tr data-person=p.name.clone()>
                    <td>{p.name.clone()}</td>
                    <td>{p.login.clone()}</td>
                    <td>{roles.join("；")}</td>
                    <td>
                        <button class="plain" data-testid="issue-code" on:click=move |_| issue(id.clone(), name.clone())>"发放激活码"</button>
                        " "
                        <button class="plain" data-testid="issue-token" on:click=move |_| issue_token(token_id.clone(), token_name.clone())>"接口令牌"</button>
                    </td>
                </tr>
            }
        })
        .collect();
    // Adding a person with a first role.
    let (name, login, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let unit = RwSignal::new(first_unit.clone());
    let role = RwSignal::new(Role::Cadre.code().to_owned());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewPerson {
            name: name.get_untracked().trim().to_owned(),
            login: login.get_untracked().trim().to_owned(),
            password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
            unit: unit.get_untracked(),
            role: role.get_untracked(),
        };
        spawn_local(async move {
            match api::post::<http_api::admin::Person>("/api/admin/people", &body).await {
                Ok(_) => {
                    message.set(Some(Ok(format!("已添加“{}”", name.get_untracked().trim()))));
                    name.set(String::new());
                    login.set(String::new());
                    password.set(String::new());
                    directory.reload();
                }
                Err(e) => message.set(Some(Err(e.message()))),
            }
        });
    };
    // Another role for someone already here.
    let grant_person = RwSignal::new(String::new());
    let grant_unit = RwSignal::new(first_unit);
    let grant_role = RwSignal::new(Role::Cadre.code().to_owned());
    let grant = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewGrant { person: grant_person.get_untracked(), unit: grant_unit.get_untracked(), role: grant_role.get_untracked() };
        spawn_local(async move {
            match api::post::<http_api::Done>("/api/admin/grants", &body).await {
                Ok(_) => {
                    message.set(Some(Ok("已添加角色".into())));
                    directory.reload();
                }
                Err(e) => message.set(Some(Err(e.message()))),
            }
        });
    };
    let unit_options = move || units.iter().map(|(id, label)| view! { <option value=id.clone()>{label.clone()}</option> }).collect_view();
    let role_options = || Role::ALL.into_iter().map(|r| view! { <option value=r.code()>{r.label()}</option> }).collect_view();
    let person_options: Vec<_> = org.people.iter().map(|p| view! { <option value=p.id.clone()>{format!("{}（{}）", p.name, p.login)}</option> }).collect();
    view! {
        {move || issued.get().map(|i| match i {
            Issued::Code { name, code, days } => view! {
                <section class="card code" data-testid="activation-code">
                    <h2>{format!("{name}的激活码")}</h2>
                    <p class="code-text" data-testid="code-text">{code.clone()}</p>
                    <div class="qr" data-testid="activation-qr" data-link=activation_link(&code) inner_html=qr_svg(&code)></div>
                    <p class="muted">{format!("仅可使用一次，{days} 天内有效。请当面交给本人：用手机相机扫码，打开后点“激活”；也可在手机上打开本系统，输入激活码。")}</p>
                    <button class="plain" on:click=move |_| issued.set(None)>"关闭"</button>
                </section>
            }.into_any(),
            Issued::Token { name, device, token } => view! {
                <section class="card code" data-testid="device-token">
                    <h2>{format!("{name} · {device} 的接口令牌")}</h2>
                    <p class="token-text" data-testid="token-text">{token}</p>
                    <p class="muted">"只显示这一次，服务器只保存它的摘要。第三方系统把它作为同步地址的 token 参数：/sync?token=…。不再使用时，在“设备”页停用。"</p>
                    <button class="plain" on:click=move |_| issued.set(None)>"关闭"</button>
                </section>
            }.into_any(),
        })}
        <Outcome message=message/>
        <section class="card">
            <h2>"人员"</h2>
            <table class="grid" data-testid="people">
                <thead><tr><th>"姓名"</th><th>"登录名"</th><th>"单位 · 角色"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <form class="card inline" on:submit=add data-testid="add-person">
            <h2>"添加人员"</h2>
            <label>"姓名"<input name="name" required maxlength="50" bind:value=name/></label>
            // `title` is what the browser says when the pattern does not match (its own words are generic).
            <label>"登录名（字母、数字、. _ -，2 到 40 位，如 zhangwei）"<input name="login" required pattern="[A-Za-z0-9._\\-]{2,40}" title="登录名只能用字母、数字和 . _ -，2 到 40 位，例如姓名拼音 zhangwei" bind:value=login/></label>
            <label>"单位"<select name="unit" on:change=move |ev| unit.set(event_target_value(&ev)) prop:value=unit>{unit_options.clone()}</select></label>
            <label>"角色"<select name="role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=role>{role_options}</select></label>
            <label>"密码（督查、先锋办、管理员在电脑上登录用；干部用激活码，可不填）"<input name="password" type="password" autocomplete="new-password" bind:value=password/></label>
            <button type="submit" class="primary">"添加"</button>
        </form>
        <form class="card inline" on:submit=grant data-testid="add-grant">
            <h2>"添加角色"</h2>
            <label>"人员"<select name="person" required on:change=move |ev| grant_person.set(event_target_value(&ev)) prop:value=grant_person>
                <option value="">"请选择"</option>{person_options}</select></label>
            <label>"单位"<select name="unit" on:change=move |ev| grant_unit.set(event_target_value(&ev)) prop:value=grant_unit>{unit_options}</select></label>
            <label>"角色"<select name="role" on:change=move |ev| grant_role.set(event_target_value(&ev)) prop:value=grant_role>{role_options}</select></label>
            <button type="submit" class="primary">"添加角色"</button>
        </form>
    }
}
