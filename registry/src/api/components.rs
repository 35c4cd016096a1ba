//! Components a vendor may supply, and their rollback floors.

use super::vendors::READERS;
use super::{etag, if_match, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use diesel::prelude::*;
use schema::models::Component;
use schema::schema::{components, vendors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Authorise a vendor for a component.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentRequest {
    /// Component name (unique across vendors).
    pub name: String,
    /// Initial rollback floor (semantic version).
    #[serde(default)]
    pub min_version: Option<String>,
}

/// Change a floor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloorRequest {
    /// The new floor (semantic version), or null to remove it.
    pub min_version: Option<String>,
    /// Why. Required when the floor goes down (or is removed).
    #[serde(default)]
    pub reason: Option<String>,
    /// Apply even if the brick check finds products left without an
    /// accepted image at or above the new floor.
    #[serde(default)]
    pub confirm_brick: bool,
}

/// A component as shown by the API.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ComponentView {
    /// Name.
    pub name: String,
    /// The vendor authorised to supply it.
    pub vendor_id: String,
    /// Rollback floor.
    pub min_version: Option<String>,
    /// Row version (ETag).
    pub version: i32,
}

fn view(c: &Component) -> ComponentView {
    ComponentView {
        name: c.name.clone(),
        vendor_id: c.vendor_id.clone(),
        min_version: c.min_version.clone(),
        version: c.row_version,
    }
}

fn parse_version(s: &str) -> Result<semver::Version, ApiError> {
    semver::Version::parse(s).map_err(|e| {
        ApiError::BadRequest(format!("min_version '{s}' is not a semantic version: {e}"))
    })
}

/// Authorises a vendor for a component (validation, change, audit: one transaction).
pub fn create_component(
    c: &mut schema::DbConnection,
    actor: &str,
    id: String,
    body: ComponentRequest,
) -> Result<Component, ApiError> {
    if body.name.trim().is_empty() || body.name.len() > 128 {
        return Err(ApiError::BadRequest("name must be 1-128 characters".into()));
    }
    if let Some(v) = &body.min_version {
        parse_version(v)?;
    }
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let exists: i64 = vendors::table
            .filter(vendors::id.eq(&id))
            .count()
            .get_result(c)?;
        if exists == 0 {
            return Err(ApiError::NotFound(format!("no vendor '{id}'")));
        }
        let taken: Option<Component> = components::table
            .find(&body.name)
            .select(Component::as_select())
            .first(c)
            .optional()?;
        if let Some(t) = taken {
            return Err(ApiError::Conflict(format!(
                "component '{}' is already supplied by vendor '{}'",
                t.name, t.vendor_id
            )));
        }
        let row = Component {
            name: body.name.trim().to_string(),
            vendor_id: id.clone(),
            min_version: body.min_version.clone(),
            row_version: 1,
            updated_at: crate::now_unix(),
        };
        diesel::insert_into(components::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            actor,
            "create",
            "component",
            &row.name,
            None::<&()>,
            Some(&view(&row)),
        )?;
        Ok(row)
    })
}

/// Authorises a vendor to supply a component.
#[utoipa::path(tag = "components", params(("id" = String, Path)), request_body = ComponentRequest, responses((status = 201, body = ComponentView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/components")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ComponentRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Procurement], "authorise components")?;
    let body = body.into_inner();
    let actor = caller.actor();
    let id = id.into_inner();
    let row = with_conn(&state, move |c| create_component(c, &actor, id, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}

/// Lists components.
#[utoipa::path(tag = "components", responses((status = 200, body = Vec<ComponentView>)), security(("bearer" = [])))]
#[get("/components")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read components")?;
    let rows: Vec<Component> = with_conn(&state, |c| {
        Ok(components::table
            .order(components::name)
            .select(Component::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Sets a floor if the component's row version is still `expected`.
pub fn set_component_floor(
    c: &mut schema::DbConnection,
    actor: &str,
    name: String,
    expected: i32,
    body: FloorRequest,
) -> Result<Component, ApiError> {
    let new_floor = body.min_version.as_deref().map(parse_version).transpose()?;
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let brick_before = crate::products::brick_problems(c)?;
        let before: Component = components::table
            .find(&name)
            .select(Component::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ApiError::NotFound(format!("no component '{name}'")))?;
        if before.row_version != expected {
            return Err(ApiError::PreconditionFailed(format!(
                "component '{name}' changed since you read it (version {} now, {expected} in If-Match)",
                before.row_version
            )));
        }
        let old_floor = before.min_version.as_deref().map(parse_version).transpose()?;
        let lowering = match (&old_floor, &new_floor) {
            (Some(o), Some(n)) => n < o,
            (Some(_), None) => true,
            _ => false,
        };
        let reason = body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if lowering && reason.is_none() {
            return Err(ApiError::BadRequest(format!(
                "lowering the floor of '{name}' re-admits older firmware: give a reason"
            )));
        }
        let after = Component {
            min_version: body.min_version.clone(),
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        let n = diesel::update(components::table.filter(components::name.eq(&name)).filter(components::row_version.eq(expected)))
            .set(&after)
            .execute(c)?;
        if n != 1 {
            return Err(ApiError::PreconditionFailed(format!("component '{name}' changed concurrently")));
        }
        #[derive(Serialize)]
        struct FloorChange<'a> {
            component: ComponentView,
            reason: Option<&'a str>,
        }
        audit::record(
            c,
            actor,
            if lowering { "lower-floor" } else { "set-floor" },
            "component",
            &name,
            Some(&view(&before)),
            Some(&FloorChange { component: view(&after), reason }),
        )?;
        crate::products::check_new_problems(c, &brick_before, body.confirm_brick)?;
        Ok(after)
    })
}

/// Sets a component's rollback floor. Security role; lowering or removing
/// needs a reason. Needs `If-Match`.
#[utoipa::path(tag = "components", params(("name" = String, Path), ("If-Match" = String, Header)), request_body = FloorRequest, responses((status = 200, body = ComponentView), (status = 400, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/components/{name}/floor")]
pub async fn set_floor(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<FloorRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Security], "change rollback floors")?;
    let expected = if_match(&req)?;
    let name = name.into_inner();
    let body = body.into_inner();
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        set_component_floor(c, &actor, name, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}
