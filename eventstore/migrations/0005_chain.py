"""The hash chain: ``StoredEvent.chain_hash``, the chain head on the position counter.

The data migration chains the events stored already, in position order, a
page at a time (constant memory), with the construction of
:mod:`eventstore.integrity`, and sets the head on the counter row.
"""

from django.db import migrations, models

COUNTER = "events"
PAGE = 1_000


def chain_stored_events(apps, schema_editor):
    from eventstore import codec
    from eventstore.integrity import ZERO_HASH, body_digest, link, link_tail

    StoredEvent = apps.get_model("eventstore", "StoredEvent")
    PositionCounter = apps.get_model("eventstore", "PositionCounter")
    using = schema_editor.connection.alias
    rows = StoredEvent.objects.using(using).order_by("position")
    previous, position = ZERO_HASH, 0
    while True:
        page = list(rows.filter(position__gt=position)[:PAGE].iterator())
        if not page:
            break
        for row in page:
            digest = body_digest(
                row.event_id,
                row.aggregate_id,
                row.aggregate_type,
                row.event_type,
                row.schema_version,
                row.correlation_id,
                row.causation_id,
                codec.dumps(row.metadata, native=True),
                codec.dumps(row.data, native=True),
            )
            previous = link(previous, row.position, link_tail(row.version, row.timestamp, digest))
            row.chain_hash = previous
        StoredEvent.objects.using(using).bulk_update(page, ["chain_hash"])
        position = page[-1].position
    if position:
        PositionCounter.objects.using(using).update_or_create(
            name=COUNTER, defaults={"value": position, "last_hash": previous}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0004_projections'),
    ]

    operations = [
        migrations.AddField(
            model_name='positioncounter',
            name='last_hash',
            field=models.BinaryField(default=b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', max_length=32),
        ),
        migrations.AddField(
            model_name='positioncounter',
            name='previous_hash',
            field=models.BinaryField(default=b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', max_length=32),
        ),
        migrations.AddField(
            model_name='storedevent',
            name='chain_hash',
            field=models.BinaryField(default=b'', max_length=32),
        ),
        migrations.RunPython(chain_stored_events, migrations.RunPython.noop, elidable=False),
    ]
