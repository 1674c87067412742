def test_admin_creates_contact_and_ticket(admin):
    level = admin.post(
        "/api/service-levels", {"name": "Gold", "rank": 1, "response_hours": 4, "resolution_hours": 24}
    )
    assert level.status_code == 201, level.body
    status = admin.post(
        "/api/statuses", {"name": "New", "customer_label": "Received", "order": 1, "closed": False}
    )
    assert status.status_code == 201, status.body
    contact = admin.post(
        "/api/contacts",
        {"name": "Cleo Customer", "email": "cleo@example.com", "service_level_id": level.data["id"]},
    )
    assert contact.status_code == 201, contact.body
    ticket = admin.post(
        "/api/tickets",
        {
            "contact_id": contact.data["id"],
            "subject": "Broken",
            "body": "It broke",
            "status_id": status.data["id"],
        },
    )
    assert ticket.status_code == 201, ticket.body
    listed = admin.get("/api/tickets")
    assert [t["number"] for t in listed.data["items"]] == [ticket.data["number"]]
    note = admin.post(f"/api/tickets/{ticket.data['id']}/notes", {"body": "hello", "public": True})
    assert note.status_code == 201, note.body
    got = admin.get(f"/api/tickets/{ticket.data['id']}")
    assert got.data["notes"][0]["body"] == "hello"
    patched = admin.patch(
        f"/api/tickets/{ticket.data['id']}",
        {"category_id": None, "version": got.data["version"], "service_level_id": None},
    )
    assert patched.status_code == 200, patched.body
