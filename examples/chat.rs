//! `chat`: a minimal pub/sub demo. Every participant publishes on
//! `chat:room` and reads it through a subscription that survives
//! reconnects (a gap is shown if messages were lost meanwhile).
//!
//! Usage:
//!   `cargo run --example chat -- [REDIS] NAME`     type lines; Ctrl-D to leave
//!   `cargo run --example chat -- [REDIS] --bots`   three bots chat for a few seconds

use std::time::Duration;

use redmux::prelude::*;
use redmux::Delivery;
use tokio::io::{AsyncBufReadExt, BufReader};

const ROOM: &str = "chat:room";

#[tokio::main]
async fn main() -> redmux::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (redis, who) = match args.as_slice() {
        [redis, who, ..] => (redis.clone(), who.clone()),
        [who] => ("127.0.0.1:6379".to_owned(), who.clone()),
        [] => ("127.0.0.1:6379".to_owned(), "--bots".to_owned()),
    };
    let mux = Multiplexer::connect(format!("{redis},name=chat")).await?;
    if who == "--bots" {
        return bots(mux).await;
    }
    let mut room = mux.subscriber().subscribe([ROOM]).await?;
    let me = who.clone();
    tokio::spawn(async move {
        while let Some(item) = room.recv().await {
            match item {
                Delivery::Message(m) => println!("{}", m.payload_str()),
                Delivery::Gap(gap) => println!("(-- {gap} --)"),
                Delivery::Closed(e) => {
                    println!("(-- {e} --)");
                    break;
                }
                _ => {}
            }
        }
    });
    let db = mux.database(0);
    db.publish(ROOM, format!("* {me} joined")).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        db.publish(ROOM, format!("<{me}> {line}")).await?;
    }
    db.publish(ROOM, format!("* {me} left")).await?;
    mux.close().await;
    Ok(())
}

/// Three bots, each with its own subscription on the one subscriber
/// connection, taking turns; every bot prints what it hears.
async fn bots(mux: Multiplexer) -> redmux::Result<()> {
    let names = ["ada", "bob", "cy"];
    let mut listeners = Vec::new();
    for name in names {
        let mut room = mux.subscriber().subscribe([ROOM]).await?;
        listeners.push(tokio::spawn(async move {
            let mut heard = 0;
            while let Some(msg) = room.next_message().await {
                if msg.payload_str() == "* bye" {
                    break;
                }
                if !msg.payload_str().starts_with(&format!("<{name}>")) {
                    heard += 1;
                }
            }
            (name, heard)
        }));
    }
    let db = mux.database(0);
    let lines = [
        ("ada", "anyone up for a game?"),
        ("bob", "sure, which one?"),
        ("cy", "go?"),
        ("ada", "go it is"),
    ];
    for (name, line) in lines {
        let text = format!("<{name}> {line}");
        println!("{text}");
        let receivers = db.publish(ROOM, &text).await?;
        println!(
            "   (delivered to {receivers} subscriber connection(s); three subscriptions share it)"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let stats = mux.subscriber().stats();
    println!(
        "subscriber connection: {} subscriptions, {} channel(s) on the server, {} messages received",
        stats.subscriptions, stats.subscribed_names, stats.messages_received
    );
    db.publish(ROOM, "* bye").await?;
    for listener in listeners {
        if let Ok((name, heard)) = listener.await {
            println!("{name} heard {heard} lines from the others");
        }
    }
    mux.close().await;
    Ok(())
}
