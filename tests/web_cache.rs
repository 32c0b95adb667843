//! The `web_cache` example's handlers against a real redis-server, over
//! real HTTP: cache-aside (miss, then hit without the origin), a PUT that
//! writes the cache fire-and-forget and publishes an update, and a clear
//! 503 when Redis is gone.

mod support;

#[path = "../examples/web_cache/app.rs"]
mod app;
#[path = "../examples/web_cache/http.rs"]
mod http;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use redmux::prelude::*;
use support::RedisServer;

/// Serves the example's router on a free port; its address and state.
async fn serve(mux: redmux::Multiplexer) -> (std::net::SocketAddr, app::AppState) {
    let state = app::AppState::new(mux);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, state)
}

#[tokio::test]
async fn a_read_misses_once_then_hits_without_touching_the_origin() {
    let server = RedisServer::start();
    let (addr, state) = serve(server.connect("").await).await;
    let mut client = http::HttpClient::connect(addr).await.unwrap();
    let (status, first) = client.request("GET", "/products/7", "").await.unwrap();
    assert_eq!(status, 200);
    assert!(first.contains(r#""id":7"#), "{first}");
    assert_eq!(state.origin.reads.load(Relaxed), 1);
    // The fire-and-forget SETEX lands on the server with a TTL.
    let ttl: i64 = state.db.ttl(app::product_key(7)).await.unwrap();
    assert!(ttl > 0 && ttl <= 60, "cached with a TTL ({ttl})");
    let (status, second) = client.request("GET", "/products/7", "").await.unwrap();
    assert_eq!((status, &second), (200, &first));
    assert_eq!(
        state.origin.reads.load(Relaxed),
        1,
        "the hit did not read the origin"
    );
    assert_eq!(
        (state.hits.load(Relaxed), state.misses.load(Relaxed)),
        (1, 1)
    );
    let (_, stats) = client.request("GET", "/stats", "").await.unwrap();
    assert!(stats.contains("hits 1 misses 1"), "{stats}");
}

#[tokio::test]
async fn a_write_updates_the_cache_fire_and_forget_and_announces_it() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let mut updates = mux
        .subscriber()
        .subscribe(["product-updates"])
        .await
        .unwrap();
    let (addr, state) = serve(mux).await;
    let mut client = http::HttpClient::connect(addr).await.unwrap();
    let body = r#"{"id":9,"name":"new","price":1}"#;
    let (status, _) = client.request("PUT", "/products/9", body).await.unwrap();
    assert_eq!(status, 204);
    let announced = tokio::time::timeout(Duration::from_secs(5), updates.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(announced.payload_str(), "9");
    // The cache holds the new value: served without the origin.
    let (status, read) = client.request("GET", "/products/9", "").await.unwrap();
    assert_eq!((status, read.as_str()), (200, body));
    assert_eq!(state.origin.reads.load(Relaxed), 0);
    let cached: Option<String> = state.db.get(app::product_key(9)).await.unwrap();
    assert_eq!(cached.as_deref(), Some(body));
}

#[tokio::test]
async fn a_read_while_redis_is_down_is_a_503_that_says_why() {
    let mut server = RedisServer::start();
    let (addr, _state) = serve(
        server
            .connect(",syncTimeout=200,backlogPolicy=failFast")
            .await,
    )
    .await;
    server.kill();
    let mut client = http::HttpClient::connect(addr).await.unwrap();
    let (status, body) = client.request("GET", "/products/1", "").await.unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("GET"), "the error names the command: {body}");
}
