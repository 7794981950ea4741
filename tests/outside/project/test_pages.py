"""Every audit-trail page renders for permitted staff, from the installed wheel."""

import pytest

INDEX = "/admin/eventstore/audittrail/"


def test_the_pages_come_from_the_installed_wheel():
    import eventstore

    assert "site-packages" in eventstore.__file__
    for name in ("payments", "gyroscops"):
        with pytest.raises(ImportError):
            __import__(name)


def test_event_browser(auditor, orders):
    page = auditor.get(INDEX)
    assert page.status_code == 200
    text = page.content.decode()
    assert "OrderPlaced" in text and "OrderShipped" in text
    assert "order-1" in text and "order-2" in text


def test_event_detail(auditor, orders):
    placed = orders[0]
    page = auditor.get(f"{INDEX}event/{placed.event_id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert str(placed.event_id) in text and "42.50" in text and "checkout-1" in text


def test_aggregate_timeline_shows_the_state_after_each_event(auditor, orders):
    page = auditor.get(f"{INDEX}aggregate/order-1/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "shipped" in text and "DHL" in text
    at_version_1 = auditor.get(f"{INDEX}aggregate/order-1/?version=1")
    assert at_version_1.status_code == 200
    assert "placed" in at_version_1.content.decode()


def test_correlation_timeline(auditor, orders):
    page = auditor.get(f"{INDEX}correlation/checkout-1/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "OrderPlaced" in text and "OrderShipped" in text and "order-2" not in text


def test_analytics(auditor, orders):
    page = auditor.get(f"{INDEX}analytics/?event_type=OrderPlaced&interval=day")
    assert page.status_code == 200
    text = page.content.decode()
    assert "OrderPlaced" in text and "<svg" in text


def test_projections(auditor, orders, run_projection):
    assert run_projection("shop.shipped").position == orders[-1].position
    page = auditor.get(f"{INDEX}projections/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "shop.shipped" in text and "caught_up" in text


def test_the_pages_need_the_permission(client, django_user_model, orders):
    assert client.get(INDEX).status_code == 302  # to the admin login
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(INDEX).status_code == 403
