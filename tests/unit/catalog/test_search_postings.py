"""Which products a search's words find, on this run's database, against a reference
computed here from the products' text: through SQLite's FTS5 index, and on PostgreSQL
through the word lists in every state they can be in (never built, built, built with
changes pending since, rebuilt), and through the GIN index they stand in for.

The PostgreSQL-only behaviours (a change made during a build, a second builder, the
indexer's rules) run on PostgreSQL in both passes of `make test`."""
import random
import re
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from services.catalog import fulltext, importer, indexer
from services.catalog.models import Base, Product
from services.common.engines import is_postgres, open_session
from tests.support.databases import migrated_database
from tests.unit.catalog.support import product

VOCABULARY = ["thinkpad", "thinkcentre", "think", "latitude", "monitor", "usb", "c", "32gb",
              "16gb", "dock", "x1", "5450", "pro", "ssd", "nvme", "1tb", "1tbx"]
QUERIES = [["thinkpad"], ["thi"], ["think"], ["monitor", "usb"], ["usb", "c"], ["32gb", "thinkp"],
           ["latitude", "5450"], ["ssd", "1tb"], ["nvme", "ssd", "1tb"], ["x1"], ["dock", "pro"],
           ["missing"], ["pro", "missing"], ["q0"], ["q00"]]


def reference(products: dict, words) -> list:
    """Ids of the products whose text holds every word, the last (from 3 letters) also as
    a prefix: what both engines must answer."""
    found = []
    for product_id, row in products.items():
        text_words = set(re.findall(r"[^\W_]+", " ".join(
            (row["part_number"], row["mfg_part_number"], row["name"], row["manufacturer"],
             row["description"])).lower()))
        ok = all(w in text_words for w in words[:-1])
        last = words[-1]
        if len(last) >= fulltext.MIN_PREFIX:
            ok = ok and any(t.startswith(last) for t in text_words)
        else:
            ok = ok and last in text_words
        if ok:
            found.append(product_id)
    return sorted(found)


def found(session, words) -> list:
    return fulltext.FullText(session, words).ids(session).tolist()


def gin(session, words) -> list:
    """The GIN index's answer (PostgreSQL), the truth the word lists stand in for."""
    found = fulltext.FullText(session, words)
    return sorted(session.scalars(select(Product.id).where(found.condition())))


def state(session) -> dict:
    return {row["part_number"]: row for row in session.execute(select(
        Product.id, Product.part_number, Product.mfg_part_number, Product.name,
        Product.manufacturer, Product.description)).mappings()}


def by_id(session) -> dict:
    return {row["id"]: row for row in state(session).values()}


def random_product(rng, part):
    name = " ".join(rng.sample(VOCABULARY, rng.randint(1, 4)))
    return product(part, name=name.title(), manufacturer=rng.choice(["Lenovo", "Dell", "Pro-Tech"]),
                   description=" ".join(rng.sample(VOCABULARY, rng.randint(0, 3))))


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    url, drop = migrated_database("catalog", tmp_path_factory.mktemp("postings"))
    session = open_session("catalog", Base, url)
    yield session
    session.close()
    session.get_bind().dispose()
    drop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 6), builds=st.lists(st.booleans(), min_size=3, max_size=3))
def test_search_words_find_what_the_text_holds(shared_db, seed, builds):
    """Load, change, re-import and delete products at random, building the word lists (on
    PostgreSQL) or not between the steps; every query answers the reference each time."""
    session, rng = shared_db, random.Random(seed)
    session.execute(delete(Product))
    session.commit()
    engine = session.get_bind()

    def check():
        products = by_id(session)
        for words in QUERIES:
            expected = reference(products, words)
            assert found(session, words) == expected, words
            if is_postgres(session):
                assert gin(session, words) == expected, words

    def reimport():
        # new words for some, the same words with a new price for others, new parts too
        existing, rows = state(session), []
        for i in rng.sample(range(40), 15):
            part = f"Q{i:02d}"
            if part in existing and i % 2 == 0:
                same = {k: existing[part][k] for k in ("name", "manufacturer", "description", "mfg_part_number")}
                rows.append({**product(part), **same, "list_price": "1.00"})
            else:
                rows.append(random_product(rng, part))
        importer.load_rows(session, rows)

    steps = [
        lambda: importer.load_rows(session, [random_product(rng, f"Q{i:02d}") for i in range(30)]),
        reimport,
        lambda: session.execute(delete(Product).where(Product.part_number.in_(
            [f"Q{i:02d}" for i in rng.sample(range(40), 5)]))),
    ]
    for step, build in zip(steps, builds):
        step()
        session.commit()
        check()
        if build and is_postgres(session):
            assert fulltext.rebuild_postings(engine) is not None
            assert fulltext.pending_changes(session) == 0
            session.commit()
            check()


# ------------------------------------------------------------------ PostgreSQL only

@pytest.fixture
def pg(tmp_path, monkeypatch):
    """A migrated catalog database on PostgreSQL, whichever database this run tests."""
    monkeypatch.setenv("PROCURA_TEST_DB", "postgresql")
    url, drop = migrated_database("catalog", tmp_path)
    session = open_session("catalog", Base, url)
    yield session
    session.close()
    session.get_bind().dispose()
    drop()


def names(session, words):
    ids = found(session, words)
    return sorted(session.scalars(select(Product.part_number).where(Product.id.in_(ids)))) if ids else []


def test_lists_are_read_once_built_and_changes_are_checked_row_by_row(pg):
    importer.load_rows(pg, [product("A1", name="Lenovo ThinkPad"), product("A2", name="Dell Latitude")])
    pg.commit()
    assert fulltext.pending_changes(pg) == 2
    report = fulltext.rebuild_postings(pg.get_bind())
    assert report["published_changes"] == 2 and report["generation"] == 1
    assert fulltext.pending_changes(pg) == 0
    words = dict(pg.execute(text("SELECT lexeme, cardinality(ids) FROM search_postings")).all())
    assert words["thinkpad"] == 1 and words["lenovo"] == 2 and words["a1"] == 1  # both are Lenovo's

    # a product renamed after the build is found by its new words only
    pg.execute(update(Product).where(Product.part_number == "A1").values(name="Lenovo Yoga"))
    pg.commit()
    assert fulltext.pending_changes(pg) == 1
    assert names(pg, ["thinkpad"]) == [] and names(pg, ["yoga"]) == ["A1"]
    assert names(pg, ["lenovo"]) == ["A1", "A2"]
    # a price-only change leaves the lists valid
    pg.execute(update(Product).where(Product.part_number == "A2").values(list_price=1))
    pg.commit()
    assert fulltext.pending_changes(pg) == 1


def test_too_many_pending_changes_use_the_gin_index(pg, monkeypatch):
    importer.load_rows(pg, [product(f"P{i}", name=f"Cable {i}") for i in range(12)])
    pg.commit()
    monkeypatch.setattr(fulltext, "CHANGES_MAX", 5)
    assert fulltext.postings_ids(pg, ["cable"]) is None
    assert len(found(pg, ["cable"])) == 12
    fulltext.rebuild_postings(pg.get_bind())
    assert len(fulltext.postings_ids(pg, ["cable"])) == 12


def test_a_product_changed_during_a_build_stays_pending(pg):
    importer.load_rows(pg, [product("B1", name="Lenovo ThinkPad"), product("B2", name="HP EliteBook")])
    pg.commit()
    other = open_session("catalog", Base, str(pg.get_bind().url))

    def rename_while_building():
        # changed after the build's snapshot, before it publishes
        other.execute(update(Product).where(Product.part_number == "B1").values(name="Lenovo Legion"))
        other.commit()

    fulltext.rebuild_postings(pg.get_bind(), on_built=rename_while_building)
    other.close()
    pending = pg.scalars(text("SELECT p.part_number FROM search_changes c JOIN products p ON p.id = c.product_id")).all()
    assert pending == ["B1"]
    assert names(pg, ["legion"]) == ["B1"] and names(pg, ["thinkpad"]) == []
    assert names(pg, ["elitebook"]) == ["B2"]


def test_one_builder_at_a_time(pg):
    importer.load_rows(pg, [product("C1", name="Dock")])
    pg.commit()
    started, release, results = threading.Event(), threading.Event(), []

    def slow_build():
        results.append(fulltext.rebuild_postings(pg.get_bind(), on_built=lambda: (started.set(), release.wait(10))))

    builder = threading.Thread(target=slow_build)
    builder.start()
    assert started.wait(10)
    assert fulltext.rebuild_postings(pg.get_bind()) is None  # the lock is held
    release.set()
    builder.join(10)
    assert results[0]["generation"] == 1
    assert fulltext.rebuild_postings(pg.get_bind())["generation"] == 2


class _Container:
    service_name = "catalog"

    def __init__(self, database):
        self.dependencies = [database]


def indexer_on(url, monkeypatch):
    """A SearchIndexer set up as in the catalog service (its loop is driven by the test)."""
    from services.common.unit_of_work import Database
    monkeypatch.setenv("CATALOG_DATABASE_URL", url)
    database = Database("catalog", Base)
    database.container = _Container(database)
    database.setup()
    loop = indexer.SearchIndexer()
    loop.container = database.container
    loop.setup()
    return database, loop


def test_the_indexer_builds_once_an_import_has_finished(pg, monkeypatch):
    monkeypatch.setenv("SEARCH_REBUILD_AT", "3")
    database, loop = indexer_on(str(pg.get_bind().url), monkeypatch)
    try:
        assert loop.enabled()
        importer.load_rows(pg, [product(f"D{i}", name="Keyboard") for i in range(2)])
        pg.commit()
        loop.cycle()
        loop.cycle()
        assert fulltext.pending_changes(pg) == 2  # fewer than SEARCH_REBUILD_AT
        importer.load_rows(pg, [product(f"E{i}", name="Mouse") for i in range(2)])
        pg.commit()
        loop.cycle()  # changes still arriving: wait for a quiet look
        assert fulltext.pending_changes(pg) == 4
        loop.cycle()
        assert fulltext.pending_changes(pg) == 0
        assert pg.scalar(text("SELECT generation FROM search_state")) == 1
        assert np.array_equal(fulltext.postings_ids(pg, ["mouse"]), np.array(found(pg, ["mouse"])))
    finally:
        database.stop()


def test_the_indexer_does_nothing_on_sqlite(tmp_path, monkeypatch):
    database, loop = indexer_on(f"sqlite:///{tmp_path / 'catalog.db'}", monkeypatch)
    assert not loop.enabled()
    database.stop()
