//! Pub/sub against real redis-server processes: order, patterns, shard
//! channels, channelPrefix, keyspace notifications, restoring every
//! subscription after `CLIENT KILL TYPE pubsub` and after a server restart
//! (with the gap reported), and a consumer that never reads, which must
//! neither stall the others nor grow without bound.

mod support;

use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{Delivery, ErrorKind, Gap, Message, Multiplexer, Overflow, Subscription};
use support::RedisServer;

const WAIT: Duration = Duration::from_secs(10);

/// The next message, failing the test on a gap, an end or a timeout.
async fn message(sub: &mut Subscription) -> Message {
    match tokio::time::timeout(WAIT, sub.recv()).await {
        Ok(Some(Delivery::Message(m))) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Publishes `payload` on `channel` (SPUBLISH for shard channels, named
/// `s…` here) every 50 ms until `sub` receives it
/// (skipping gaps, which it counts); the number of gaps seen.
async fn republish_until_received(
    db: &redmux::Database,
    sub: &mut Subscription,
    channel: &str,
    payload: &str,
) -> u32 {
    let mut gaps = 0;
    let until = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < until,
            "{payload} never arrived on {channel}"
        );
        let _ = if channel.starts_with("s") {
            db.spublish(channel, payload).await
        } else {
            db.publish(channel, payload).await
        };
        if let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(50), sub.recv()).await {
            match item {
                Delivery::Message(m) if m.payload_str() == payload => return gaps,
                Delivery::Message(_) => {}
                Delivery::Gap(Gap::Reconnected { .. }) => gaps += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

async fn numsub(db: &redmux::Database, channel: &str) -> u64 {
    db.pubsub_numsub([channel])
        .await
        .expect("PUBSUB NUMSUB")
        .get(channel)
        .unwrap_or(0)
}

#[tokio::test]
async fn subscriptions_receive_in_publication_order_on_resp2_and_resp3() {
    let server = RedisServer::start();
    for protocol in ["resp2", "resp3"] {
        let mux = server.connect(&format!(",protocol={protocol}")).await;
        let db = mux.database(0);
        let mut sub = mux.subscriber().subscribe(["a", "b"]).await.unwrap();
        assert_eq!(numsub(&db, "a").await, 1, "{protocol}");
        for i in 0..1000 {
            let channel = if i % 2 == 0 { "a" } else { "b" };
            db.publish(channel, i.to_string())
                .fire_and_forget()
                .unwrap();
        }
        let (mut next_a, mut next_b) = (0, 1);
        for _ in 0..1000 {
            let m = message(&mut sub).await;
            let n: u32 = m.payload_str().parse().unwrap();
            let expected = if m.channel_str() == "a" {
                &mut next_a
            } else {
                &mut next_b
            };
            assert_eq!(
                n,
                *expected,
                "{protocol}: out of order on {}",
                m.channel_str()
            );
            *expected += 2;
        }
        assert_eq!((next_a, next_b), (1000, 1001));
        // The command connection was not disturbed.
        db.set("k", "v").await.unwrap();
        assert_eq!(db.get::<String>("k").await.unwrap(), "v");
        mux.close().await;
    }
}

#[tokio::test]
async fn pattern_and_sharded_subscriptions_receive_with_their_pattern() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let subscriber = mux.subscriber();
    let mut news = subscriber.psubscribe(["news.*"]).await.unwrap();
    let mut shard = subscriber.ssubscribe(["orders:{7}"]).await.unwrap();
    assert_eq!(db.publish("news.sport", "goal").await.unwrap(), 1);
    assert_eq!(db.publish("weather", "rain").await.unwrap(), 0);
    assert_eq!(db.spublish("orders:{7}", "o-1").await.unwrap(), 1);
    let m = message(&mut news).await;
    assert_eq!(
        (
            m.channel_str().as_ref(),
            m.pattern().map(|p| &p[..]),
            m.payload_str().as_ref()
        ),
        ("news.sport", Some(&b"news.*"[..]), "goal")
    );
    let m = message(&mut shard).await;
    assert_eq!(
        (m.channel_str().as_ref(), m.payload_str().as_ref()),
        ("orders:{7}", "o-1")
    );
    assert_eq!(subscriber.stats().subscribed_names, 2);
}

#[tokio::test]
async fn channel_prefix_is_added_on_both_sides_and_taken_off_received_names() {
    let server = RedisServer::start();
    let app = server.connect(",channelPrefix=app1:").await;
    let raw = server.connect("").await;
    let mut prefixed = app.subscriber().subscribe(["news"]).await.unwrap();
    let mut pattern = app.subscriber().psubscribe(["ne*"]).await.unwrap();
    let mut wire = raw.subscriber().subscribe(["app1:news"]).await.unwrap();
    // PUBLISH through the prefixed multiplexer goes to app1:news.
    assert_eq!(app.database(0).publish("news", "hi").await.unwrap(), 3);
    let m = message(&mut prefixed).await;
    assert_eq!(
        (m.channel_str().as_ref(), m.payload_str().as_ref()),
        ("news", "hi")
    );
    let m = message(&mut pattern).await;
    assert_eq!(m.channel_str(), "news");
    assert_eq!(m.pattern().map(|p| &p[..]), Some(&b"ne*"[..]));
    let m = message(&mut wire).await;
    assert_eq!(m.channel_str(), "app1:news");
    // Another application's "news" is not ours.
    assert_eq!(raw.database(0).publish("news", "other").await.unwrap(), 0);
}

#[tokio::test]
async fn a_channel_two_subscriptions_want_is_unsubscribed_when_the_last_one_goes() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let subscriber = mux.subscriber();
    let first = subscriber.subscribe(["x"]).await.unwrap();
    let mut second = subscriber.subscribe(["x", "y"]).await.unwrap();
    assert_eq!(subscriber.stats().subscribed_names, 2);
    drop(first);
    db.publish("x", "still").await.unwrap();
    assert_eq!(message(&mut second).await.payload_str(), "still");
    assert_eq!(
        numsub(&db, "x").await,
        1,
        "x is still wanted by the second subscription"
    );
    second.unsubscribe().await.unwrap();
    assert_eq!(numsub(&db, "x").await, 0);
    assert_eq!(numsub(&db, "y").await, 0);
    assert_eq!(subscriber.stats().subscriptions, 0);
}

#[tokio::test]
async fn every_kind_of_subscription_is_restored_after_client_kill_with_the_gap_reported() {
    restored_after_client_kill("").await;
}

#[tokio::test]
async fn every_kind_of_subscription_is_restored_after_client_kill_on_resp3() {
    restored_after_client_kill(",protocol=resp3").await;
}

async fn restored_after_client_kill(options: &str) {
    let server = RedisServer::start();
    let mux = server.connect(options).await;
    let db = mux.database(0);
    let subscriber = mux.subscriber();
    let mut channel = subscriber.subscribe(["c1", "c2"]).await.unwrap();
    let mut pattern = subscriber.psubscribe(["p.*"]).await.unwrap();
    let mut shard = subscriber.ssubscribe(["s1"]).await.unwrap();
    // Two quick kills in a row (SE.Redis once restored only some channels
    // after two quick reconnects).
    for round in 1..=2 {
        let killed = server.command(&["CLIENT", "KILL", "TYPE", "pubsub"]);
        assert!(killed.contains('1'), "a pubsub client was killed: {killed}");
        // Kill again as soon as it is back.
        let until = Instant::now() + WAIT;
        while subscriber.stats().reconnects < round {
            assert!(Instant::now() < until, "reconnected after kill {round}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let gaps = [
        republish_until_received(&db, &mut channel, "c2", "after-c2").await,
        republish_until_received(&db, &mut pattern, "p.x", "after-p").await,
        republish_until_received(&db, &mut shard, "s1", "after-s1").await,
    ];
    assert!(
        gaps.iter().all(|&g| g >= 1),
        "each subscription reported its gap (channel, pattern, shard: {gaps:?})"
    );
    assert!(
        subscriber.stats().reconnects >= 1,
        "{:?}",
        subscriber.stats()
    );
    assert_eq!(numsub(&db, "c1").await, 1, "c1 restored too");
    // c1 delivers again, in order (after any repeats of "after-c2").
    db.publish("c1", "one").await.unwrap();
    db.publish("c1", "two").await.unwrap();
    let mut first = message(&mut channel).await;
    while first.payload_str() == "after-c2" {
        first = message(&mut channel).await;
    }
    assert_eq!(
        (first.channel_str().as_ref(), first.payload_str().as_ref()),
        ("c1", "one")
    );
    assert_eq!(message(&mut channel).await.payload_str(), "two");
}

#[tokio::test]
async fn a_subscriber_survives_a_server_restart() {
    let mut server = RedisServer::start();
    let mux = server.connect(",abortConnect=false").await;
    let db = mux.database(0);
    let mut sub = mux.subscriber().subscribe(["events"]).await.unwrap();
    db.publish("events", "before").await.unwrap();
    assert_eq!(message(&mut sub).await.payload_str(), "before");
    server.restart();
    let gaps = republish_until_received(&db, &mut sub, "events", "after").await;
    // One outage; reconnect gaps in a row merge, so at most one is read.
    assert_eq!(gaps, 1, "the outage was reported once");
    let stats = mux.subscriber().stats();
    assert!(stats.disconnects >= 1 && stats.reconnects >= 1, "{stats:?}");
}

#[tokio::test]
async fn a_consumer_that_never_reads_stalls_nobody_and_stays_bounded() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let subscriber = mux.subscriber();
    let mut stuck = subscriber
        .with_buffer(100, Overflow::DropOldest)
        .subscribe(["busy"])
        .await
        .unwrap();
    const N: u32 = 20_000;
    let mut reader = subscriber
        .with_buffer(N as usize, Overflow::DropOldest)
        .subscribe(["busy"])
        .await
        .unwrap();
    let payload = "x".repeat(100);
    for i in 0..N {
        db.publish("busy", format!("{i}:{payload}"))
            .fire_and_forget()
            .unwrap();
    }
    // The reading subscription gets every message, in order, while the
    // other holds 100 and commands keep flowing.
    for i in 0..N {
        let m = message(&mut reader).await;
        assert!(m.payload_str().starts_with(&format!("{i}:")));
        if i % 5_000 == 0 {
            db.set("alive", i).await.unwrap();
        }
    }
    assert_eq!(stuck.buffered(), 100, "bounded at its capacity");
    match stuck.recv().await {
        Some(Delivery::Gap(Gap::Dropped { count })) => assert_eq!(count, u64::from(N) - 100),
        other => panic!("expected the drop count first, got {other:?}"),
    }
    let first_kept = message(&mut stuck).await;
    assert!(first_kept
        .payload_str()
        .starts_with(&format!("{}:", N - 100)));
    assert!(subscriber.stats().messages_dropped >= u64::from(N) - 100);
}

#[tokio::test]
async fn the_close_policy_ends_a_slow_subscription_with_a_clear_error() {
    let server = RedisServer::start();
    let mux = server
        .connect(",subscriptionBuffer=10,subscriptionOverflow=close")
        .await;
    let db = mux.database(0);
    let mut slow = mux.subscriber().subscribe(["firehose"]).await.unwrap();
    for i in 0..50 {
        db.publish("firehose", i.to_string()).await.unwrap();
    }
    for i in 0..10 {
        assert_eq!(message(&mut slow).await.payload_str(), i.to_string());
    }
    match slow.recv().await {
        Some(Delivery::Closed(e)) => {
            assert_eq!(e.kind(), ErrorKind::SlowConsumer);
            let text = e.to_string();
            assert!(
                text.contains("firehose") && text.contains("subscriptionBuffer"),
                "{text}"
            );
        }
        other => panic!("expected the end, got {other:?}"),
    }
    assert!(slow.recv().await.is_none());
    let until = Instant::now() + WAIT;
    while numsub(&db, "firehose").await != 0 {
        assert!(Instant::now() < until, "the channel was unsubscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn keyspace_notifications_arrive_parsed() {
    let server = RedisServer::start_with(&["--notify-keyspace-events", "KEA"]);
    let mux = server.connect("").await;
    let db = mux.database(0);
    let mut keys = mux.subscriber().keyspace(0, "user:*").await.unwrap();
    let mut expired = mux.subscriber().keyevent(0, "del").await.unwrap();
    db.set("user:1", "ann").await.unwrap();
    db.set("other", "x").await.unwrap();
    db.del("user:1").await.unwrap();
    let event = message(&mut keys).await.keyspace_event().unwrap();
    assert_eq!(
        (event.db, &event.key[..], event.event.as_str()),
        (0, &b"user:1"[..], "set")
    );
    let event = message(&mut keys).await.keyspace_event().unwrap();
    assert_eq!(event.event, "del");
    let event = message(&mut expired).await.keyspace_event().unwrap();
    assert_eq!(
        (&event.key[..], event.event.as_str()),
        (&b"user:1"[..], "del")
    );
}

#[tokio::test]
async fn closing_the_multiplexer_ends_subscriptions_and_refuses_new_ones() {
    let server = RedisServer::start();
    let mux: Multiplexer = server.connect("").await;
    let mut sub = mux.subscriber().subscribe(["c"]).await.unwrap();
    mux.close().await;
    match sub.recv().await {
        Some(Delivery::Closed(e)) => assert_eq!(e.kind(), ErrorKind::Closed),
        other => panic!("expected Closed, got {other:?}"),
    }
    let e = mux.subscriber().subscribe(["d"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}

#[tokio::test]
async fn subscribing_while_the_server_is_down_times_out_with_the_state() {
    let mut server = RedisServer::start();
    let mux = server.connect(",syncTimeout=300").await;
    server.kill();
    let e = mux.subscriber().subscribe(["c"]).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("subscriber"), "{e}");
    let until = Instant::now() + WAIT;
    while mux.subscriber().stats().subscriptions != 0 {
        assert!(Instant::now() < until, "nothing left subscribed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn subscribe_is_refused_on_the_shared_connection_with_a_pointer_to_the_subscriber() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let e = mux
        .database(0)
        .execute::<redmux::Value, _, _>("SUBSCRIBE", ["c"])
        .await
        .unwrap_err();
    assert!(e.is_refused());
    assert!(e.to_string().contains("mux.subscriber()"), "{e}");
}

#[tokio::test]
async fn a_handler_gets_every_message() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let sub = mux.subscriber().subscribe(["h"]).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = sub.on_message(move |m| {
        let _ = tx.send(m.payload_str().into_owned());
    });
    for i in 0..10 {
        mux.database(0).publish("h", i.to_string()).await.unwrap();
    }
    for i in 0..10 {
        assert_eq!(rx.recv().await.unwrap(), i.to_string());
    }
    mux.close().await;
    let ended = tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    assert_eq!(ended.map(|e| e.kind()), Some(ErrorKind::Closed));
}

#[tokio::test]
async fn a_refused_subscription_fails_alone_and_leaves_nothing_subscribed() {
    let server = RedisServer::start();
    let mux = limited_to(&server, "&public*").await;
    let admin = server.connect("").await.database(0);
    let subscriber = mux.subscriber();
    let mut public = subscriber.subscribe(["public1"]).await.unwrap();
    let e = subscriber.subscribe(["secret"]).await.unwrap_err();
    assert_eq!(e.server_code(), Some("NOPERM"), "{e}");
    // Shard channels go one per command: one refused, the other undone.
    let e = subscriber
        .ssubscribe(["public:a", "secret:b"])
        .await
        .unwrap_err();
    assert_eq!(e.server_code(), Some("NOPERM"), "{e}");
    let until = Instant::now() + WAIT;
    loop {
        let shard = admin
            .pubsub_shardnumsub(["public:a"])
            .await
            .unwrap()
            .get("public:a")
            .unwrap_or(0);
        if shard == 0 {
            break;
        }
        assert!(Instant::now() < until, "public:a was unsubscribed again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The first subscription was not disturbed.
    admin.publish("public1", "still here").await.unwrap();
    assert_eq!(message(&mut public).await.payload_str(), "still here");
    assert_eq!(subscriber.stats().subscriptions, 1);
}

#[tokio::test]
async fn a_resubscription_the_server_refuses_ends_the_subscription_with_the_reason() {
    let server = RedisServer::start();
    let mux = limited_to(&server, "&news").await;
    let mut news = mux.subscriber().subscribe(["news"]).await.unwrap();
    // Taking the channel away disconnects the subscriber (Redis 7); the
    // resubscription after the reconnect is then refused.
    server.command(&["ACL", "SETUSER", "limited", "resetchannels"]);
    let ended = loop {
        match tokio::time::timeout(WAIT, news.recv()).await {
            Ok(Some(Delivery::Closed(e))) => break e,
            Ok(Some(Delivery::Gap(_))) => continue,
            other => panic!("expected the end, got {other:?}"),
        }
    };
    assert_eq!(ended.server_code(), Some("NOPERM"), "{ended}");
    assert!(news.is_ended());
    assert!(mux.subscriber().stats().reconnects >= 1);
}

/// A multiplexer as ACL user `limited`, allowed every key and command but
/// only the channels matching `channels` (`&pattern`).
async fn limited_to(server: &RedisServer, channels: &str) -> Multiplexer {
    let rule = channels.to_string();
    server.command(&[
        "ACL",
        "SETUSER",
        "limited",
        "on",
        ">pw",
        "~*",
        "+@all",
        "resetchannels",
        &rule,
    ]);
    server.connect(",user=limited,password=pw").await
}
