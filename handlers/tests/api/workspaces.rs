use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_list_and_get_workspaces() {
    let app = TestApp::new().await;
    let res = app
        .post("/api/workspaces")
        .token(&app.member.token)
        .json(json!({"name": "Side Dock"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let ws = &res.body["workspace"];
    assert_eq!(ws["slug"], "side-dock");
    assert_eq!(ws["role"], "owner");
    assert!(ws["id"].as_str().unwrap().starts_with("wsp_"));
    assert!(ws["created_at"].as_str().unwrap().ends_with('Z'));
    let id = ws["id"].as_str().unwrap().to_string();

    let list = app
        .get("/api/workspaces")
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let slugs: Vec<_> = list.body["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].clone())
        .collect();
    assert_eq!(slugs, vec![json!("clickclack"), json!("side-dock")]);
    let list = app
        .get("/api/workspaces")
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.body["workspaces"], json!([]));

    app.get(&format!("/api/workspaces/{id}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.get(&format!("/api/workspaces/{id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/workspaces")
        .token(&app.owner.token)
        .json(json!({"name": "Other", "slug": "Side Dock"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "slug_taken");
    let untitled = app
        .post("/api/workspaces")
        .token(&app.owner.token)
        .json(json!({}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(untitled.body["workspace"]["slug"], "untitled");
}

#[tokio::test]
async fn member_directory_pages_and_filters() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.chat
            .admin_create_user(
                &format!("Crew {i}"),
                &format!("crew{i}@example.com"),
                Some(&app.workspace_id),
            )
            .await
            .unwrap();
    }
    let path = format!("/api/workspaces/{}/members", app.workspace_id);
    let first = app
        .get(&format!("{path}?limit=3"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(first.body["total_count"], 7);
    assert_eq!(first.body["has_more"], true);
    let names: Vec<_> = first.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["display_name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("Crew 0"), json!("Crew 1"), json!("Crew 2")]
    );
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{path}?limit=10&cursor={cursor}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(second.body["members"].as_array().unwrap().len(), 4);
    assert_eq!(second.body["has_more"], false);
    let owners = app
        .get(&format!("{path}?role=owner"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        owners.body["members"][0]["user"]["display_name"],
        "Local Captain"
    );
    assert_eq!(owners.body["members"].as_array().unwrap().len(), 1);
    let search = app
        .get(&format!("{path}?q=mate"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        search.body["members"][0]["user"]["id"],
        app.member.id.as_str()
    );
    app.get(&path)
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}
