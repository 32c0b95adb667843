//! The web service of the `web_cache` example: an axum router whose
//! handlers share one `Multiplexer`, reads through a cache-aside helper,
//! and cache writes that are fire-and-forget.
//!
//! ```text
//!  GET  /products/{id}   cache-aside: GET product:{id} → hit: 200 │ miss: load from the
//!                        origin (slow), SET product:{id} EX ttl fire-and-forget, 200
//!  PUT  /products/{id}   the origin is updated; the cache is written fire-and-forget and
//!                        a PUBLISH on product-updates announces it (for other instances'
//!                        local caches, or any listener; the tests subscribe to it)
//!  GET  /stats           hits, misses, and the multiplexer's commands per write
//! ```
//!
//! The "origin" stands in for a database: an in-memory map behind a
//! 1 ms delay, so a cache miss costs what a real one would, relatively.

#![allow(dead_code)] // shared by the example and its tests; each uses a part

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use redmux::prelude::*;

/// How long a cached product stays (the origin is the truth after that).
pub const CACHE_TTL: Duration = Duration::from_secs(60);

/// What one origin read costs: a stand-in for a database query.
pub const ORIGIN_DELAY: Duration = Duration::from_millis(1);

/// Everything the handlers share: one multiplexer for every request.
#[derive(Clone)]
pub struct AppState {
    pub mux: Multiplexer,
    pub db: Database,
    pub origin: Arc<Origin>,
    pub hits: Arc<AtomicU64>,
    pub misses: Arc<AtomicU64>,
}

impl AppState {
    pub fn new(mux: Multiplexer) -> AppState {
        AppState {
            db: mux.database(0),
            mux,
            origin: Arc::new(Origin::default()),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }
}

/// The slow source of truth.
#[derive(Default)]
pub struct Origin {
    products: Mutex<HashMap<u64, String>>,
    pub reads: AtomicU64,
}

impl Origin {
    /// A product's JSON, after [`ORIGIN_DELAY`]; a made-up one if never written.
    pub async fn load(&self, id: u64) -> String {
        tokio::time::sleep(ORIGIN_DELAY).await;
        self.reads.fetch_add(1, Relaxed);
        let products = self.products.lock().unwrap_or_else(|e| e.into_inner());
        products.get(&id).cloned().unwrap_or_else(|| {
            format!(r#"{{"id":{id},"name":"product {id}","price":{}}}"#, id % 97)
        })
    }

    pub fn store(&self, id: u64, json: String) {
        self.products
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, json);
    }
}

/// The cache key of a product.
pub fn product_key(id: u64) -> String {
    format!("product:{id}")
}

/// Cache-aside: the cached value if there is one; otherwise `load` it and
/// write it to the cache fire-and-forget (the response does not wait for
/// Redis). `Ok(true)` with the value on a hit.
pub async fn cache_aside<F, Fut>(
    db: &Database,
    key: &str,
    ttl: Duration,
    load: F,
) -> redmux::Result<(String, bool)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = String>,
{
    if let Some(hit) = db.get::<Option<String>>(key).await? {
        return Ok((hit, true));
    }
    let value = load().await;
    db.setex(key, ttl, &value).fire_and_forget()?;
    Ok((value, false))
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/products/{id}", get(get_product).put(put_product))
        .route("/stats", get(stats))
        .with_state(state)
}

/// Redis errors become 503 with the error's text: it names what happened.
fn unavailable(e: redmux::Error) -> (StatusCode, String) {
    (StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

async fn get_product(
    State(app): State<AppState>,
    Path(id): Path<u64>,
) -> Result<String, (StatusCode, String)> {
    let origin = app.origin.clone();
    let (json, hit) = cache_aside(&app.db, &product_key(id), CACHE_TTL, || async move {
        origin.load(id).await
    })
    .await
    .map_err(unavailable)?;
    if hit {
        app.hits.fetch_add(1, Relaxed);
    } else {
        app.misses.fetch_add(1, Relaxed);
    }
    Ok(json)
}

async fn put_product(
    State(app): State<AppState>,
    Path(id): Path<u64>,
    body: String,
) -> Result<StatusCode, (StatusCode, String)> {
    app.origin.store(id, body.clone());
    // Both leave at once, in this order, on the shared connection.
    app.db
        .setex(product_key(id), CACHE_TTL, &body)
        .fire_and_forget()
        .map_err(unavailable)?;
    app.db
        .publish("product-updates", id)
        .fire_and_forget()
        .map_err(unavailable)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn stats(State(app): State<AppState>) -> String {
    let s = app.mux.stats();
    format!(
        "hits {} misses {} origin_reads {} commands {} writes {} commands_per_write {:.1} fire_and_forget_acknowledged {}\n",
        app.hits.load(Relaxed),
        app.misses.load(Relaxed),
        app.origin.reads.load(Relaxed),
        s.commands_written,
        s.flushes,
        s.commands_per_flush(),
        s.fire_and_forget_acknowledged,
    )
}
