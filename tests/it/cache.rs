//! `SET intercom.cache_ttl`: a read answered from the cache sends nothing; a write through
//! intercom-sql forgets the answers about the object type it changes, not the others.

use crate::common::start;

/// Requests the emulator served while `sql` ran.
async fn sent(env: &crate::common::TestEnv, sql: &str) -> (usize, Vec<Vec<String>>) {
    env.emulator.state.clear_requests();
    let rows = env.rows(sql).await;
    (env.emulator.state.request_count(), rows)
}

#[tokio::test]
async fn cached_reads_are_served_until_a_write_changes_their_type() {
    let env = start().await;
    let tags = "SELECT id, name FROM tags ORDER BY id";
    let leads = "SELECT id FROM contacts WHERE role = 'lead' ORDER BY id";

    // Off by default: the same read sends its requests every time.
    let (first, rows) = sent(&env, tags).await;
    assert!(first > 0);
    assert_eq!(sent(&env, tags).await, (first, rows.clone()));

    // With a TTL the second read is answered from the cache, search pages included.
    env.rows("SET intercom.cache_ttl = '5 min'").await;
    assert_eq!(sent(&env, tags).await, (first, rows.clone()));
    assert_eq!(sent(&env, tags).await, (0, rows.clone()));
    let (searched, lead_rows) = sent(&env, leads).await;
    assert!(searched > 0);
    assert_eq!(sent(&env, leads).await, (0, lead_rows.clone()));
    let scan = env.scan_line("EXPLAIN ANALYZE", tags).await;
    assert!(
        scan.contains("cache_hits=") && scan.contains("requests=0"),
        "{scan}"
    );

    // A write to tags forgets the tags, and the next read sees the new one...
    env.rows("INSERT INTO tags (name) VALUES ('cached-then-written')")
        .await;
    let (again, after) = sent(&env, tags).await;
    assert_eq!(again, first);
    assert_eq!(after.len(), rows.len() + 1);
    assert!(after.iter().any(|r| r[1] == "cached-then-written"));
    // ...but not the contacts.
    assert_eq!(sent(&env, leads).await, (0, lead_rows.clone()));

    // An answer older than the session's TTL is not used.
    env.rows("SET intercom.cache_ttl = '1 ms'").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(sent(&env, leads).await.0, searched);

    // `\cache` (the client's cache cleared) and `off` send again.
    env.rows("SET intercom.cache_ttl = '5 min'").await;
    assert_eq!(sent(&env, tags).await.0, 0);
    env.engine.client().cache().clear();
    assert_eq!(sent(&env, tags).await.0, first);
    env.rows("SET intercom.cache_ttl = off").await;
    assert_eq!(sent(&env, tags).await.0, first);
}

/// `--cache-ttl` (`Config::cache_ttl`) is every session's TTL until it sets its own.
#[tokio::test]
async fn the_configured_ttl_is_every_sessions_default() {
    let env = crate::common::start_with(Default::default(), |config| {
        config.cache_ttl = std::time::Duration::from_secs(60);
    })
    .await;
    let tags = "SELECT id, name FROM tags";
    assert!(sent(&env, tags).await.0 > 0);
    assert_eq!(sent(&env, tags).await.0, 0);
    assert_eq!(env.rows("SHOW intercom.cache_ttl").await[0][1], "60s");
    env.rows("SET intercom.cache_ttl = off").await;
    assert!(sent(&env, tags).await.0 > 0);
}

/// A statement that writes reads the rows it acts on fresh: an UPDATE after the same WHERE was
/// cached still searches Intercom, and a procedure call's rows too.
#[tokio::test]
async fn writes_find_their_rows_fresh() {
    let env = start().await;
    env.rows("SET intercom.cache_ttl = '5 min'").await;
    let lead = env
        .rows("SELECT email FROM contacts WHERE role = 'lead' AND email IS NOT NULL LIMIT 1")
        .await[0][0]
        .clone();
    let filter = format!("role = 'lead' AND email = '{lead}'");
    let read = format!("SELECT id FROM contacts WHERE {filter}");
    assert!(sent(&env, &read).await.0 > 0);
    assert_eq!(sent(&env, &read).await.0, 0, "cached");
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "UPDATE contacts SET name = 'Fresh' WHERE {filter}"
    ))
    .await;
    let requests = env.requests();
    assert!(
        requests.iter().any(|r| r == "POST /contacts/search"),
        "the UPDATE's rows came from the cache: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.starts_with("PUT /contacts/")),
        "{requests:?}"
    );
    // The write forgot the contacts: the next read is sent, and sees the new name.
    let (again, rows) = sent(&env, &format!("SELECT name FROM contacts WHERE {filter}")).await;
    assert!(again > 0);
    assert_eq!(rows, vec![vec!["Fresh".to_string()]]);
}
