//! geo commands: see main.rs.

use redmux::prelude::*;
use redmux::{ErrorKind, GeoAddOptions, GeoFrom, GeoMatch, GeoSearchOptions, GeoShape, GeoUnit};

use crate::connect;

const PALERMO: (f64, f64) = (13.361389, 38.115556);
const CATANIA: (f64, f64) = (15.087269, 37.502669);

fn close(a: f64, b: f64, eps: f64) -> bool {
    (a - b).abs() < eps
}

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

async fn sicily(db: &Database) {
    let added = db
        .geoadd(
            "Sicily",
            [
                (PALERMO.0, PALERMO.1, "Palermo"),
                (CATANIA.0, CATANIA.1, "Catania"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added, 2);
}

#[tokio::test]
async fn add_dist_hash_pos() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        sicily(&db).await;
        assert_eq!(server.command(&["ZCARD", "Sicily"]), ":2\r\n");

        // NX: existing member not moved; XX + CH: only existing ones, counted.
        let n = db
            .geoadd_with(
                "Sicily",
                [(0.0, 0.0, "Palermo"), (12.5, 41.9, "Rome")],
                GeoAddOptions::new().only_if_absent(),
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        let moved = db
            .geoadd_with(
                "Sicily",
                [(12.49, 41.89, "Rome"), (1.0, 1.0, "Nowhere")],
                GeoAddOptions::new().only_if_exists().changed(),
            )
            .await
            .unwrap();
        assert_eq!(moved, 1);
        assert_eq!(server.command(&["ZSCORE", "Sicily", "Nowhere"]), "$-1\r\n");

        let m = db
            .geodist("Sicily", "Palermo", "Catania", GeoUnit::Meters)
            .await
            .unwrap()
            .unwrap();
        assert!(close(m, 166274.1516, 0.01), "{m}");
        let km = db
            .geodist("Sicily", "Palermo", "Catania", GeoUnit::Kilometers)
            .await
            .unwrap()
            .unwrap();
        assert!(close(km, 166.2742, 0.001), "{km}");
        let mi = db
            .geodist("Sicily", "Palermo", "Catania", GeoUnit::Miles)
            .await
            .unwrap()
            .unwrap();
        assert!(close(mi, 103.3182, 0.001), "{mi}");
        let ft = db
            .geodist("Sicily", "Palermo", "Catania", GeoUnit::Feet)
            .await
            .unwrap()
            .unwrap();
        assert!(close(ft, 545518.87, 0.01), "{ft}");
        assert_eq!(
            db.geodist("Sicily", "Palermo", "Atlantis", GeoUnit::Meters)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            db.geodist("missing", "a", "b", GeoUnit::Meters)
                .await
                .unwrap(),
            None
        );

        let hashes = db
            .geohash("Sicily", ["Palermo", "Atlantis", "Catania"])
            .await
            .unwrap();
        assert_eq!(
            hashes,
            vec![
                Some("sqc8b49rny0".to_owned()),
                None,
                Some("sqdtr74hyu0".to_owned())
            ]
        );

        let positions = db.geopos("Sicily", ["Palermo", "Atlantis"]).await.unwrap();
        assert_eq!(positions.len(), 2);
        let (lon, lat) = positions[0].unwrap();
        assert!(
            close(lon, PALERMO.0, 1e-4) && close(lat, PALERMO.1, 1e-4),
            "{lon} {lat}"
        );
        assert_eq!(positions[1], None);
        assert_eq!(
            db.geopos("missing", ["a"]).await.unwrap(),
            vec![None::<(f64, f64)>]
        );

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(db.geoadd("s", [(1.0, 1.0, "m")]).await.unwrap_err());
        assert_wrongtype(
            db.geodist("s", "a", "b", GeoUnit::Meters)
                .await
                .unwrap_err(),
        );
        assert_wrongtype(db.geopos("s", ["a"]).await.unwrap_err());
        assert_wrongtype(db.geohash("s", ["a"]).await.unwrap_err());
        // An invalid position is the server's error.
        let err = db
            .geoadd("Sicily", [(200.0, 100.0, "bad")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    }
}

#[tokio::test]
async fn search_with_fields_and_store() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        sicily(&db).await;

        // Members only.
        let found: Vec<GeoMatch<String>> = db
            .geosearch(
                "Sicily",
                GeoFrom::LonLat(15.0, 37.0),
                GeoShape::Radius(200.0, GeoUnit::Kilometers),
                GeoSearchOptions::new().ascending(),
            )
            .await
            .unwrap();
        let names: Vec<&str> = found.iter().map(|m| m.member.as_str()).collect();
        assert_eq!(names, ["Catania", "Palermo"]);
        assert!(found
            .iter()
            .all(|m| m.dist.is_none() && m.hash.is_none() && m.coords.is_none()));

        // Every field, descending.
        let found: Vec<GeoMatch<String>> = db
            .geosearch(
                "Sicily",
                GeoFrom::LonLat(15.0, 37.0),
                GeoShape::Radius(200.0, GeoUnit::Kilometers),
                GeoSearchOptions::new()
                    .descending()
                    .with_coord()
                    .with_dist()
                    .with_hash(),
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
        let palermo = &found[0];
        assert_eq!(palermo.member, "Palermo");
        assert!(close(palermo.dist.unwrap(), 190.4424, 0.001), "{palermo:?}");
        assert_eq!(palermo.hash, Some(3_479_099_956_230_698));
        let (lon, lat) = palermo.coords.unwrap();
        assert!(close(lon, PALERMO.0, 1e-4) && close(lat, PALERMO.1, 1e-4));
        assert_eq!(found[1].member, "Catania");
        assert!(close(found[1].dist.unwrap(), 56.4413, 0.001));
        assert_eq!(found[1].hash, Some(3_479_447_370_796_909));

        // Only the distance: told apart from the hash by its type.
        let found: Vec<GeoMatch<String>> = db
            .geosearch(
                "Sicily",
                GeoFrom::member("Palermo"),
                GeoShape::Box {
                    width: 400.0,
                    height: 400.0,
                    unit: GeoUnit::Kilometers,
                },
                GeoSearchOptions::new().ascending().count(1).with_dist(),
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].member, "Palermo");
        assert_eq!(found[0].dist, Some(0.0));
        assert_eq!(found[0].hash, None);

        // COUNT ANY, and a too-small box.
        let any: Vec<GeoMatch<String>> = db
            .geosearch(
                "Sicily",
                GeoFrom::LonLat(15.0, 37.0),
                GeoShape::Radius(500.0, GeoUnit::Kilometers),
                GeoSearchOptions::new().count_any(1),
            )
            .await
            .unwrap();
        assert_eq!(any.len(), 1);
        let none: Vec<GeoMatch<String>> = db
            .geosearch(
                "Sicily",
                GeoFrom::LonLat(0.0, 0.0),
                GeoShape::Box {
                    width: 1.0,
                    height: 1.0,
                    unit: GeoUnit::Meters,
                },
                GeoSearchOptions::new(),
            )
            .await
            .unwrap();
        assert!(none.is_empty());
        let none: Vec<GeoMatch<String>> = db
            .geosearch(
                "missing",
                GeoFrom::LonLat(0.0, 0.0),
                GeoShape::Radius(1.0, GeoUnit::Meters),
                GeoSearchOptions::new(),
            )
            .await
            .unwrap();
        assert!(none.is_empty());
        // FROMMEMBER of a missing member is the server's error.
        let err = db
            .geosearch::<String>(
                "Sicily",
                GeoFrom::member("Atlantis"),
                GeoShape::Radius(1.0, GeoUnit::Meters),
                GeoSearchOptions::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");

        // GEOSEARCHSTORE, as a geo set and with distances.
        let stored = db
            .geosearchstore(
                "near",
                "Sicily",
                GeoFrom::LonLat(15.0, 37.0),
                GeoShape::Radius(100.0, GeoUnit::Kilometers),
                GeoSearchOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!(stored, 1);
        assert_eq!(
            server.command(&["ZSCORE", "near", "Catania"]),
            "3479447370796909"
        );
        let stored = db
            .geosearchstore(
                "dists",
                "Sicily",
                GeoFrom::LonLat(15.0, 37.0),
                GeoShape::Radius(200.0, GeoUnit::Kilometers),
                GeoSearchOptions::new().ascending().count(2).store_dist(),
            )
            .await
            .unwrap();
        assert_eq!(stored, 2);
        let dist: f64 = server
            .command(&["ZSCORE", "dists", "Palermo"])
            .parse()
            .unwrap();
        assert!(close(dist, 190.4424, 0.001), "{dist}");

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(
            db.geosearch::<String>(
                "s",
                GeoFrom::LonLat(0.0, 0.0),
                GeoShape::Radius(1.0, GeoUnit::Meters),
                GeoSearchOptions::new(),
            )
            .await
            .unwrap_err(),
        );
    }
}

#[tokio::test]
async fn deprecated_radius_forms() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        sicily(&db).await;

        let mut near: Vec<String> = db
            .georadius("Sicily", 15.0, 37.0, 200.0, GeoUnit::Kilometers)
            .await
            .unwrap();
        near.sort();
        assert_eq!(near, ["Catania", "Palermo"]);
        let near: Vec<String> = db
            .georadiusro("Sicily", 15.0, 37.0, 100.0, GeoUnit::Kilometers)
            .await
            .unwrap();
        assert_eq!(near, ["Catania"]);
        let near: Vec<String> = db
            .georadiusbymember("Sicily", "Palermo", 100.0, GeoUnit::Kilometers)
            .await
            .unwrap();
        assert_eq!(near, ["Palermo"]);
        let mut near: Vec<String> = db
            .georadiusbymemberro("Sicily", "Palermo", 200.0, GeoUnit::Kilometers)
            .await
            .unwrap();
        near.sort();
        assert_eq!(near, ["Catania", "Palermo"]);
        let none: Vec<String> = db
            .georadius("missing", 0.0, 0.0, 1.0, GeoUnit::Meters)
            .await
            .unwrap();
        assert!(none.is_empty());

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(
            db.georadiusbymember::<Vec<String>>("s", "a", 1.0, GeoUnit::Meters)
                .await
                .unwrap_err(),
        );
    }
}

#[tokio::test]
async fn geo_commands_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let added = batch.geoadd(
        "Sicily",
        [
            (PALERMO.0, PALERMO.1, "Palermo"),
            (CATANIA.0, CATANIA.1, "Catania"),
        ],
    );
    let dist = batch.geodist("Sicily", "Palermo", "Catania", GeoUnit::Kilometers);
    let found = batch.geosearch::<String>(
        "Sicily",
        GeoFrom::member("Catania"),
        GeoShape::Radius(10.0, GeoUnit::Kilometers),
        GeoSearchOptions::new().with_coord(),
    );
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(added).unwrap(), 2);
    assert!(close(replies.take(dist).unwrap().unwrap(), 166.2742, 0.001));
    let found = replies.take(found).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].member, "Catania");
    assert!(found[0].coords.is_some() && found[0].dist.is_none());
}
