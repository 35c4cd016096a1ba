//! The web pages (askama templates in the top-level `templates/`).

pub mod chart;
pub mod pages;
pub mod session;

/// Form-decoding errors as a page.
pub fn form_config() -> actix_web::web::FormConfig {
    actix_web::web::FormConfig::default()
        .limit(1024 * 1024)
        .error_handler(|err, _| {
            let resp = pages::error_page(
                actix_web::http::StatusCode::BAD_REQUEST,
                &format!("The form could not be read: {err}"),
            );
            actix_web::error::InternalError::from_response(err, resp).into()
        })
}
