"""Deterministic generator of transaction lines shaped like the UCI "Online Retail" data.

Output columns (all text, parsing is left to dbt):
``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``.

Model of customer behaviour
---------------------------
* Each customer has a first purchase (a third were already customers when the window
  opens, the rest are acquired over the window), a customer-specific purchase rate (15%
  never come back; the others draw a lognormal rate, so invoice counts are heavy
  tailed) and may churn (stop buying at a random point). Repeat purchases form a Poisson
  process, i.e. exponential gaps with a customer-specific mean, run in "seasonal time":
  the calendar is warped by a day intensity (peak in November, quiet January/February,
  no Saturdays, closed over Christmas), so every process inherits the seasonality.
* An invoice holds 1..60 lines (mean ~16; guest orders up to 120), products drawn from a
  Zipf-like popularity over a fixed catalogue; quantities come in pack sizes, larger for
  wholesale customers.
* Guest invoices (no CustomerID) make up ~25% of the lines.
* A simulated campaign (optional; the bundled demo has one, the autumn campaign of
  ``seeds/campaigns.csv``) gives a known truth to measure: the customers it treats buy
  ``1 + uplift`` times as often from its start to the end of its measured window; everyone
  else is untouched. The treated customers are a list of ids: for the demo, the project's
  own treated arm of that campaign, drawn from the data without the campaign (the audience
  is frozen from the lines before the start, which the campaign does not change), so the
  measured arms are exactly the simulated ones (``make demo-data`` does both steps).
* Quirks of the real export are layered on top: cancellations (``C`` invoices reversing
  earlier lines of the same customer, or purchases made before the window), stock
  adjustments, exact duplicate lines, service codes (POST, DOT, M, ...), bad-debt ``A``
  invoices, free items and a handful of extreme lines copied from the original data.

Customers are generated in chunks; each chunk is vectorised with numpy and seeded from
(seed, chunk index), so any number of lines streams in bounded memory and the output is
byte-identical for the same arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv
import pyarrow.parquet as pq

from scripts import cli

COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])

DATE_FORMATS = {
    "us": "%m/%d/%Y %H:%M",
    "us2": "%m/%d/%y %H:%M",
    "eu": "%d/%m/%Y %H:%M",
    "iso": "%Y-%m-%d %H:%M:%S",
}

DEFAULT_LINES = 60_000
DEFAULT_SEED = 42
DEFAULT_OUT = "data/demo/online_retail_demo.csv.gz"
# The window of "Online Retail". A longer one (--start 2009-12-01 is the window of the
# two-year "Online Retail II") keeps the landmark lines on their dates in it.
DEFAULT_START = ONLINE_RETAIL_START = dt.date(2010, 12, 1)
DEFAULT_END = dt.date(2011, 12, 9)


@dataclass(frozen=True)
class SimulatedCampaign:
    """A campaign with a known effect: the treated customers buy (1 + uplift) times as often
    from `start` to `measured_until` (both inclusive); everyone else is untouched."""

    start: dt.date
    measured_until: dt.date
    uplift: float
    treated_customers: frozenset[int]

    def treated(self, customer_ids: np.ndarray) -> np.ndarray:
        return np.isin(customer_ids, np.fromiter(self.treated_customers, dtype=np.int64))


# The bundled demo's campaign: autumn_reactivation_2011_09 of seeds/campaigns.csv
# (September 2011 and its 30-day follow-up, half the audience held out), twice the
# purchases: an effect the demo's few hundred customers can detect (its minimum detectable
# lift is about 60%). Its treated customers are the project's treated arm, exported by
# `make demo-data` from a build of the lines without the campaign.
DEMO_CAMPAIGN_ID = "autumn_reactivation_2011_09"
DEMO_CAMPAIGN_TREATED = Path("data/demo/demo_campaign_treated.csv")
DEMO_CAMPAIGN_WINDOW = (dt.date(2011, 9, 1), dt.date(2011, 10, 30))
DEMO_CAMPAIGN_UPLIFT = 1.0


def demo_campaign(treated_path: Path = DEMO_CAMPAIGN_TREATED) -> SimulatedCampaign:
    """The demo's campaign, treating the customers listed in `treated_path` (a CSV with a
    customer_id column, as scripts/reporting/export_campaign.py writes it)."""
    if not treated_path.exists():
        raise ValueError(
            f"{treated_path} does not exist: `make demo-data` writes it, or pass --campaign none"
        )
    table = pa.csv.read_csv(
        treated_path,
        convert_options=pa.csv.ConvertOptions(column_types={"customer_id": pa.string()}),
    )
    ids = frozenset(int(float(value)) for value in table.column("customer_id").to_pylist())
    start, until = DEMO_CAMPAIGN_WINDOW
    return SimulatedCampaign(start, until, DEMO_CAMPAIGN_UPLIFT, ids)


LINES_PER_CUSTOMER = 90
CHUNK_CUSTOMERS = 10_000
MIN_CUSTOMERS = 12
FIRST_CUSTOMER_ID = 12346
FIRST_INVOICE = 536365
N_PRODUCTS = 3900
PARQUET_ROW_GROUP = 1 << 20
CSV_SLICE = 250_000

# Prices are integers in thousandths: PADS cost 0.001 in the original data.
MILLI = 1000

# --------------------------------------------------------------------------- calendar

MONTH_FACTOR = np.array([0.75, 0.72, 0.88, 0.8, 0.95, 0.92, 0.9, 0.88, 1.1, 1.2, 1.55, 1.45])
# Monday..Sunday; the original shop never invoiced on a Saturday.
WEEKDAY_FACTOR = np.array([0.95, 1.05, 1.05, 1.2, 0.85, 0.0, 0.6])
# Hours 7..19; invoices cluster around midday.
HOUR_WEIGHTS = np.array([0.2, 1.8, 6.0, 10.0, 12.0, 14.5, 13.5, 12.5, 13.0, 9.5, 4.5, 1.5, 0.8])
FIRST_HOUR = 7
CLOSING_MINUTE = 20 * 60


@dataclass(frozen=True)
class Calendar:
    """Days of the window with their seasonal intensity."""

    dates: list[dt.date]
    cum: np.ndarray  # cumulative normalised intensity at the end of each day
    next_open: np.ndarray  # first open day at or after each day (last open day if none)
    last_open: int

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def day_of(self, u: np.ndarray) -> np.ndarray:
        """Map seasonal time u in [0, 1) to a day index; closed days have zero width."""
        return np.minimum(np.searchsorted(self.cum, u, side="right"), self.n_days - 1)

    def open_day_near(self, offset: int) -> int:
        return int(self.next_open[min(max(offset, 0), self.n_days - 1)])


def build_calendar(start: dt.date, end: dt.date) -> Calendar:
    if end < start:
        raise ValueError("end date before start date")
    dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    months = np.array([d.month for d in dates])
    weekdays = np.array([d.weekday() for d in dates])
    closed = np.array(
        [(d.month == 12 and d.day >= 24) or (d.month == 1 and d.day <= 3) for d in dates]
    )
    weights = MONTH_FACTOR[months - 1] * WEEKDAY_FACTOR[weekdays] * ~closed
    if weights.sum() == 0:
        weights = np.ones(len(dates))
    cum = np.cumsum(weights) / weights.sum()
    is_open = weights > 0
    idx = np.where(is_open, np.arange(len(dates)), len(dates))
    nxt = np.minimum.accumulate(idx[::-1])[::-1]
    last_open = int(np.flatnonzero(is_open)[-1])
    return Calendar(dates, cum, np.where(nxt == len(dates), last_open, nxt), last_open)


def draw_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Minute of day within shop hours (7:00-19:59)."""
    hour = rng.choice(len(HOUR_WEIGHTS), size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    return (FIRST_HOUR + hour) * 60 + rng.integers(0, 60, size=n)


def day_strings(dates: list[dt.date], date_format: str) -> list[str]:
    patterns = {
        "us": lambda d: f"{d.month}/{d.day}/{d.year}",
        "us2": lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",
        "eu": lambda d: f"{d.day}/{d.month}/{d.year}",
        "iso": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    }
    return [patterns[date_format](d) for d in dates]


def time_strings(date_format: str) -> list[str]:
    if date_format == "iso":
        return [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60)]
    return [f"{m // 60}:{m % 60:02d}" for m in range(24 * 60)]


# -------------------------------------------------------------------------- countries

# (country, customer weight, guest weight); roughly the customer counts of the original.
COUNTRY_TABLE = (
    ("United Kingdom", 3950, 950),
    ("Germany", 95, 3),
    ("France", 87, 8),
    ("EIRE", 6, 14),
    ("Spain", 31, 0),
    ("Netherlands", 9, 0),
    ("Belgium", 25, 0),
    ("Switzerland", 21, 4),
    ("Portugal", 19, 1),
    ("Australia", 9, 0),
    ("Norway", 10, 0),
    ("Italy", 15, 0),
    ("Channel Islands", 9, 0),
    ("Finland", 12, 0),
    ("Cyprus", 8, 0),
    ("Sweden", 8, 0),
    ("Austria", 11, 0),
    ("Denmark", 9, 0),
    ("Japan", 8, 0),
    ("Poland", 6, 0),
    ("Israel", 4, 1),
    ("USA", 4, 0),
    ("Singapore", 1, 0),
    ("Iceland", 1, 0),
    ("Canada", 4, 0),
    ("Greece", 4, 0),
    ("Malta", 2, 0),
    ("United Arab Emirates", 2, 0),
    ("European Community", 1, 0),
    ("RSA", 1, 0),
    ("Lebanon", 1, 0),
    ("Lithuania", 1, 0),
    ("Brazil", 1, 0),
    ("Czech Republic", 1, 0),
    ("Bahrain", 2, 1),
    ("Saudi Arabia", 1, 0),
    ("Unspecified", 4, 2),
    ("Hong Kong", 0, 6),
)
COUNTRIES = [c for c, _, _ in COUNTRY_TABLE]
UK = 0
EIRE = COUNTRIES.index("EIRE")
_cw = np.array([w for _, w, _ in COUNTRY_TABLE], dtype=float)
CUSTOMER_COUNTRY_P = _cw / _cw.sum()
_gw = np.array([w for _, _, w in COUNTRY_TABLE], dtype=float)
GUEST_COUNTRY_P = _gw / _gw.sum()

# ------------------------------------------------------------------------- catalogue


def _words(text: str) -> tuple[str, ...]:
    """Word lists are kept as "|"-separated text to stay compact."""
    return tuple(w for w in text.replace("\n", "").split("|") if w)


PREFIXES = _words(
    """
SET OF 3|SET OF 4|SET OF 6|SET/5|SET 2|PACK OF 12|PACK OF 20|PACK OF 60|PACK OF 72|
BOX OF 6|JUMBO|LARGE|SMALL|MINI|VINTAGE|RETRO|ANTIQUE|REGENCY|FRENCH|SWISS|ENGLISH|
NORDIC|WOODEN|GLASS|CERAMIC|ENAMEL|METAL|FELTCRAFT|PAPER|HANGING|CHRISTMAS|EASTER|
GIANT|DOORMAT|BAROQUE|ZINC|WICKER|CHILDRENS|TRADITIONAL|DOLLY
"""
)
COLOURS = _words(
    """
WHITE|RED|PINK|BLUE|GREEN|IVORY|CREAM|BLACK|SILVER|GOLD|PURPLE|ORANGE|YELLOW|PASTEL|
ASSORTED COLOUR|LIGHT PINK|DARK BLUE
"""
)
MOTIFS = _words(
    """
RETROSPOT|POLKADOT|SPACEBOY|DOLLY GIRL|WOODLAND|ROSE COTTAGE|UNION JACK|PAISLEY|
SKULL|BIRDIE|LOVE BIRD|OWL|STRAWBERRY|APPLE|CHERRY|PANTRY|ENGLISH ROSE|DAISY|
HEART OF WICKER|SCANDINAVIAN|JAM MAKING|TEA TIME|CIRCUS PARADE|SPOTTY|STRIPE|FLORAL|
CHRYSANTHEMUM|MOROCCAN|SKETCHBOOK|50'S CHRISTMAS|REINDEER|SNOWFLAKE|ALPHABET|
BUTTERFLY|DINOSAUR|FAIRY CAKE|CUPCAKE|LADYBIRD|STAR|HEART|GINGHAM|TOILE
"""
)
ITEMS = _words(
    """
T-LIGHT HOLDER|LUNCH BAG|JUMBO BAG|CAKE CASES|CAKESTAND 3 TIER|BUNTING|
HOT WATER BOTTLE|MUG|TEACUP AND SAUCER|NAPKINS|PAPER PLATES|CUSHION COVER|DOORMAT|
METAL SIGN|NOTEBOOK|PENCILS|CHILDRENS APRON|ALARM CLOCK|PHOTO FRAME|TRINKET BOX|
KEEPSAKE BOX|STORAGE JAR|CAKE TINS|BAKING SET|TEA TOWELS|WATER BOTTLE|CANDLE|LANTERN|
WALL CLOCK|DOOR STOP|HAND WARMER|PARTY BAG|GIFT WRAP|WRAPPING PAPER|STICKERS|
CHALKBOARD|PURSE|SHOPPER BAG|PLASTERS IN TIN|MAGNETS|BOWL|PLATE|CUTLERY SET|EGG CUP|
SOAP DISH|TREE DECORATION|BIRD ORNAMENT|GARLAND|WREATH|SNOW GLOBE|POPCORN HOLDER|
RECIPE BOX|PASSPORT COVER|LUGGAGE TAG|COAT RACK|MIRROR|DRAWER KNOB|FAIRY LIGHTS|
BEAKER|SPONGE|TISSUES|PICNIC BAG|CARD HOLDER|PEG BAG|BIRD HOUSE|PLANT POT|
WATERING CAN
"""
)
SLOGANS = _words(
    """
KEEP CALM|HOME SWEET HOME|I LOVE LONDON|TEA AND CAKE|GIN + TONIC|HAPPY BIRTHDAY|
BE MINE|OPEN CLOSED|WELCOME|LAUNDRY
"""
)

# (code, description, price in milli, popularity rank or -1 for a random rank)
PINNED_PRODUCTS = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2550, 0),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12750, 1),
    ("85099B", "JUMBO BAG RED RETROSPOT", 1950, 2),
    ("47566", "PARTY BUNTING", 4950, 3),
    ("20725", "LUNCH BAG RED RETROSPOT", 1650, 4),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1690, 5),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN ", 4950, 6),
    ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 1040, 150),
    ("23843", "PAPER CRAFT , LITTLE BIRDIE", 2080, -1),
    ("84826", "ASSTD DESIGN 3D PAPER STICKERS", 850, 400),
    ("22502", "PICNIC BASKET WICKER 60 PIECES", 649500, -1),
    ("DCGS0003", "BOXED GLASS ASHTRAY", 2460, -1),
    ("DCGS0004", "HAYNES CAMPER SHOULDER BAG", 8290, -1),
    ("DCGS0069", "OOH LA LA DOGS COLLAR", 15790, -1),
    ("DCGS0070", "CAMOUFLAGE DOG COLLAR", 12750, -1),
    ("DCGSSBOY", "BOYS PARTY BAG", 3290, -1),
    ("DCGSSGIRL", "GIRLS PARTY BAG", 3290, -1),
)
P_PAPER_CRAFT = 8
P_STORAGE_JAR = 7
P_STICKERS = 9
P_PICNIC = 10


@dataclass(frozen=True)
class Catalogue:
    codes: list[str]
    descs: list[str | None]  # product descriptions, then their variants
    price: np.ndarray  # milli
    alt_price: np.ndarray
    alt_desc: np.ndarray  # index into descs, -1 if the product has no variant
    pack: np.ndarray
    cum_pop: np.ndarray
    guide: np.ndarray  # first candidate product for each of 2**16 equal slices of [0, 1)

    @property
    def size(self) -> int:
        return len(self.codes)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Inverse-CDF draw; the guide table replaces a binary search by a step or two."""
        u = rng.random(n)
        idx = self.guide[(u * len(self.guide)).astype(np.int64)]
        while True:
            behind = self.cum_pop[idx] <= u
            if not behind.any():
                return idx
            idx = idx + behind


def _product_codes(rng: np.random.Generator, n: int) -> list[str]:
    taken = {int(c[:5]) for c, *_ in PINNED_PRODUCTS if c[:5].isdigit()}
    core = np.array([b for b in range(20600, 23950) if b not in taken])
    rest = np.array([b for b in range(10002, 90215) if b not in taken and not 20600 <= b < 23950])
    n_core = min(int(n * 0.6), len(core))
    bases = np.concatenate(
        [
            rng.choice(core, n_core, replace=False),
            rng.choice(rest, n - n_core, replace=False),
        ]
    )
    kind = rng.random(n)
    letters = rng.choice(list("ABCDEFG"), n)
    suffix2 = rng.choice(["LP", "BL", "PK", "GR", "W"], n)
    codes = []
    for base, k, letter, s2 in zip(bases.tolist(), kind.tolist(), letters, suffix2, strict=True):
        if k < 0.004:
            codes.append(f"{base}{letter.lower()}")  # the original has a few lower-case codes
        elif k < 0.01:
            codes.append(f"{base}{s2}")
        elif k < 0.17:
            codes.append(f"{base}{letter}")
        else:
            codes.append(str(base))
    return codes


def _description(rng: np.random.Generator) -> str:
    item = ITEMS[rng.integers(len(ITEMS))]
    roll = rng.random()
    if roll < 0.006:
        return f'"{SLOGANS[rng.integers(len(SLOGANS))]}" {item}'
    if roll < 0.02:
        return f"{item} , {MOTIFS[rng.integers(len(MOTIFS))]}"
    if roll < 0.035:
        return f"{item}, {MOTIFS[rng.integers(len(MOTIFS))]} DESIGN"
    parts = []
    if rng.random() < 0.35:
        parts.append(PREFIXES[rng.integers(len(PREFIXES))])
    if rng.random() < 0.45:
        parts.append(COLOURS[rng.integers(len(COLOURS))])
    if rng.random() < 0.7:
        parts.append(MOTIFS[rng.integers(len(MOTIFS))])
    parts.append(item)
    return " ".join(parts)


def _round_price(milli: np.ndarray) -> np.ndarray:
    """Shop-like price points: pennies below 1, 5p steps below 20, 50p steps above."""
    step = np.where(milli < 1000, 10, np.where(milli < 20000, 50, 500))
    return np.maximum(np.rint(milli / step) * step, 40).astype(np.int64)


def build_catalogue(seed: int, n: int = N_PRODUCTS) -> Catalogue:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA7]))
    n_pinned = len(PINNED_PRODUCTS)
    codes = [c for c, *_ in PINNED_PRODUCTS] + _product_codes(rng, n - n_pinned)

    descs: list[str | None] = [d for _, d, *_ in PINNED_PRODUCTS]
    seen = dict.fromkeys(descs)
    while len(descs) < n:
        d = _description(rng)
        if d in seen:
            continue
        seen[d] = None
        descs.append(d + " " if rng.random() < 0.1 else d)
    for i in rng.choice(np.arange(n_pinned, n), 5, replace=False).tolist():
        descs[i] = None  # a few products carry no description at all

    premium = rng.random(n) < 0.02
    raw = np.where(
        premium,
        rng.lognormal(np.log(35_000), 0.8, n),
        rng.lognormal(np.log(2_100), 0.95, n),
    )
    price = np.minimum(_round_price(raw), 649_500)
    price[:n_pinned] = [p for _, _, p, _ in PINNED_PRODUCTS]
    alt_price = _round_price(price * rng.choice([0.85, 0.9, 1.15, 1.2, 1.25], n))
    alt_price = np.where(alt_price == price, price + 50, alt_price)

    alt_desc = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(rng.random(n) < 0.03).tolist():
        base = descs[i]
        if base is None:
            continue
        variant = base.rstrip() if base.endswith(" ") else base + " "
        if rng.random() < 0.5:
            variant = f"{COLOURS[rng.integers(len(COLOURS))]} {base.rstrip()}"
        alt_desc[i] = len(descs)
        descs.append(variant)

    cheap = price < 700
    pack = np.where(
        rng.random(n) < np.where(cheap, 0.6, 0.12),
        rng.choice([6, 12, 12, 24, 25, 48], n),
        1,
    )

    ranks = np.empty(n, dtype=np.int64)
    fixed = [(i, r) for i, (*_, r) in enumerate(PINNED_PRODUCTS) if r >= 0]
    free = np.ones(n, dtype=bool)
    free[[i for i, _ in fixed]] = False
    ranks[free] = rng.permutation(np.setdiff1d(np.arange(n), [r for _, r in fixed]))
    for i, r in fixed:
        ranks[i] = r
    # The 649.50 picnic basket is the rarest item: swap it with whoever drew the last rank.
    last = int(np.argmax(ranks))
    ranks[last], ranks[P_PICNIC] = ranks[P_PICNIC], ranks[last]
    pop = 1.0 / (ranks + 60.0)
    cum_pop = np.cumsum(pop) / pop.sum()
    cum_pop[-1] = 1.0
    guide = np.searchsorted(cum_pop, np.arange(1 << 16) / (1 << 16), side="right")
    return Catalogue(codes, descs, price, alt_price, alt_desc, pack, cum_pop, guide)


# ---------------------------------------------------------------------- vocabularies

SERVICE_CODES = (
    ("POST", "POSTAGE"),
    ("DOT", "DOTCOM POSTAGE"),
    ("C2", "CARRIAGE"),
    ("M", "Manual"),
    ("m", "Manual"),
    ("D", "Discount"),
    ("S", "SAMPLES"),
    ("AMAZONFEE", "AMAZON FEE"),
    ("BANK CHARGES", "Bank Charges"),
    ("CRUK", "CRUK Commission"),
    ("PADS", "PADS TO MATCH ALL CUSHIONS"),
    ("B", "Adjust bad debt"),
    ("gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00"),
    ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00"),
    ("gift_0001_30", "Dotcomgiftshop Gift Voucher £30.00"),
    ("gift_0001_40", "Dotcomgiftshop Gift Voucher £40.00"),
    ("gift_0001_50", "Dotcomgiftshop Gift Voucher £50.00"),
)
GIFT_CODES = tuple(code for code, _ in SERVICE_CODES if code.startswith("gift_"))
# Stock adjustments: free text or nothing at all (None becomes an empty field).
ADJUSTMENT_DESCS = (None,) * 4 + _words(
    """
check|check|Damaged|damaged|?|??|damages|wet damaged|thrown away|missing|lost|smashed|
wrongly marked|sold as set on dotcom|Unsaleable, destroyed.|mouldy, thrown away.|crushed
"""
)
INVOICE_PREFIX = ("", "C", "A")
PURCHASE, CANCEL, ADJUST_DEBT = 0, 1, 2
NO_CUSTOMER = -1


@dataclass(frozen=True)
class Context:
    """Everything shared by the chunks of one run."""

    seed: int
    lines: int
    n_customers: int
    chunk_customers: int
    customer_id_style: str
    calendar: Calendar
    catalogue: Catalogue
    code_vocab: pa.Array
    desc_vocab: pa.Array
    country_vocab: pa.Array
    day_vocab: pa.Array
    time_vocab: pa.Array
    service_code: dict[str, int] = field(default_factory=dict)
    service_desc: dict[str, int] = field(default_factory=dict)
    adjustment_desc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    campaign: SimulatedCampaign | None = None

    def code(self, name: str) -> int:
        return self.service_code[name]

    def desc(self, name: str) -> int:
        return self.service_desc[name]


def build_context(
    lines: int,
    seed: int,
    start: dt.date,
    end: dt.date,
    date_format: str,
    customer_id_style: str,
    chunk_customers: int,
    campaign: SimulatedCampaign | None = None,
) -> Context:
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date_format must be one of {sorted(DATE_FORMATS)}")
    if customer_id_style not in ("int", "float"):
        raise ValueError("customer_id_style must be 'int' or 'float'")
    if lines < 1 or chunk_customers < 1:
        raise ValueError("lines and chunk_customers must be positive")
    cal = build_calendar(start, end)
    cat = build_catalogue(seed)
    n_desc = len(cat.descs)
    descs = cat.descs + [d for _, d in SERVICE_CODES] + list(ADJUSTMENT_DESCS)
    return Context(
        seed=seed,
        lines=lines,
        n_customers=max(MIN_CUSTOMERS, round(lines / LINES_PER_CUSTOMER)),
        chunk_customers=chunk_customers,
        customer_id_style=customer_id_style,
        calendar=cal,
        catalogue=cat,
        code_vocab=pa.array(cat.codes + [c for c, _ in SERVICE_CODES], pa.string()),
        desc_vocab=pa.array(descs, pa.string()),
        country_vocab=pa.array(COUNTRIES, pa.string()),
        day_vocab=pa.array(day_strings(cal.dates, date_format), pa.string()),
        time_vocab=pa.array(time_strings(date_format), pa.string()),
        service_code={c: cat.size + i for i, (c, _) in enumerate(SERVICE_CODES)},
        service_desc={c: n_desc + i for i, (c, _) in enumerate(SERVICE_CODES)},
        adjustment_desc=n_desc + len(SERVICE_CODES) + np.arange(len(ADJUSTMENT_DESCS)),
        campaign=campaign,
    )


# --------------------------------------------------------------------- chunk builder


class ChunkBuilder:
    """Accumulates invoices and lines of one chunk as numpy blocks.

    Invoices get provisional ids in creation order; numbering by time happens at assembly.
    ``pos`` orders lines inside an invoice (steps of 4 leave room for inserted duplicates).
    Line fields are stored as int32: a chunk holds about a million lines.
    """

    INVOICE_FIELDS = ("day", "minute", "cust", "country", "kind")
    LINE_FIELDS = ("inv", "pos", "code", "desc", "qty", "price", "protected")

    def __init__(self) -> None:
        self.invoices: dict[str, list[np.ndarray]] = {f: [] for f in self.INVOICE_FIELDS}
        self.lines: dict[str, list[np.ndarray]] = {f: [] for f in self.LINE_FIELDS}
        self.n_invoices = 0
        self.n_lines = 0

    def add_invoices(self, day, minute, cust, country, kind) -> np.ndarray:
        n = len(np.atleast_1d(day))
        values = (day, minute, cust, country, kind)
        for name, value in zip(self.INVOICE_FIELDS, values, strict=True):
            self.invoices[name].append(np.broadcast_to(np.asarray(value, dtype=np.int64), n))
        ids = np.arange(self.n_invoices, self.n_invoices + n)
        self.n_invoices += n
        return ids

    def add_lines(self, inv, code, desc, qty, price, pos=0, protected=False) -> None:
        n = len(np.atleast_1d(inv))
        values = (inv, pos, code, desc, qty, price)
        for name, value in zip(self.LINE_FIELDS, values, strict=False):
            stored = np.asarray(value).astype(np.int32, copy=False)
            self.lines[name].append(np.broadcast_to(stored, n))
        self.lines["protected"].append(np.broadcast_to(np.asarray(protected, dtype=bool), n))
        self.n_lines += n

    def invoice_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.invoices.items()}

    def line_arrays(self) -> dict[str, np.ndarray]:
        merged = {k: np.concatenate(v) for k, v in self.lines.items()}
        self.lines = {k: [v] for k, v in merged.items()}
        return merged

    def add_single_line_invoices(self, rng, cal, n, code, desc, qty, price, cust, country, kind):
        """Standalone one-line invoices (adjustments, fees) on seasonal random days."""
        day = cal.day_of(rng.random(n))
        inv = self.add_invoices(day, draw_minutes(rng, n), cust, country, kind)
        self.add_lines(inv, code, desc, qty, price)


# -------------------------------------------------------------------------- behaviour


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray
    country: np.ndarray
    second_country: np.ndarray  # -1 for the (almost all) customers with one country
    wholesale: np.ndarray
    u0: np.ndarray  # first purchase in seasonal time
    stop: np.ndarray  # churn point in seasonal time (1 = still active at the end)
    rate: np.ndarray  # expected repeat invoices over the whole window
    basket: np.ndarray  # multiplier of the invoice size


def _cover_countries(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Make sure every customer country appears in the first chunk (the demo file)."""
    country = country.copy()
    counts = np.bincount(country, minlength=len(COUNTRIES))
    missing = np.flatnonzero((counts == 0) & (CUSTOMER_COUNTRY_P > 0))
    for c in missing.tolist():
        counts = np.bincount(country, minlength=len(COUNTRIES))
        spare = np.flatnonzero((country != UK) & (counts[country] > 1))
        spare = spare[spare > 0] if len(spare) else np.flatnonzero(country == UK)[1:]
        if len(spare) == 0:
            break
        country[rng.choice(spare)] = c
    return country


def draw_customers(rng: np.random.Generator, first: int, n: int) -> Customers:
    country = rng.choice(len(COUNTRIES), size=n, p=CUSTOMER_COUNTRY_P)
    if first == 0:
        country[0] = UK
        country = _cover_countries(rng, country)
    second = np.where(
        rng.random(n) < 0.004,
        rng.choice(len(COUNTRIES), size=n, p=CUSTOMER_COUNTRY_P),
        -1,
    )
    second = np.where(second == country, -1, second)
    # Customers of the shop before the window opens, then acquisitions that thin out.
    existing = rng.random(n) < 0.35
    u0 = np.where(existing, rng.uniform(0, 0.05, n), rng.beta(1.0, 1.3, n))
    churn = rng.random(n) < 0.3
    stop = np.where(churn, np.minimum(1.0, u0 + rng.exponential(0.3, n)), 1.0)
    one_off = rng.random(n) < 0.15
    rate = np.where(one_off, 0.0, rng.lognormal(np.log(3.2), 1.2, n))
    # Export customers order a little less often (in bigger quantities, see wholesale).
    rate = np.where(country == UK, rate, np.minimum(rate * 0.8, 15.0))
    return Customers(
        ids=FIRST_CUSTOMER_ID + first + np.arange(n, dtype=np.int64),
        country=country,
        second_country=second,
        wholesale=rng.random(n) < np.where(country == UK, 0.06, 0.35),
        u0=u0,
        stop=stop,
        rate=rate,
        basket=rng.lognormal(0.0, 0.45, n),
    )


QTY_VALUES = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 36, 48, 72, 96, 100, 144])
QTY_WEIGHTS = np.array(
    [27, 15, 7, 7, 2, 8, 3, 4, 16, 0.6, 2, 4, 1, 1, 1, 0.3, 0.3, 0.3, 0.2], dtype=float
)
QTY_CUM = np.cumsum(QTY_WEIGHTS) / QTY_WEIGHTS.sum()
PACK_MULT = np.array([1, 1, 1, 1, 2, 2, 3, 4, 5, 10])
WHOLESALE_MULT = np.array([1, 2, 2, 4, 6, 10, 12])
GUEST_QTY = np.array([1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 6, 12])


def draw_quantities(rng, prod, pack, wholesale, guest) -> np.ndarray:
    n = len(prod)
    base = QTY_VALUES[np.searchsorted(QTY_CUM, rng.random(n), side="right")]
    p = pack[prod]
    q = np.where(p > 1, p * PACK_MULT[rng.integers(0, len(PACK_MULT), n)], base)
    q = np.where(wholesale, q * WHOLESALE_MULT[rng.integers(0, len(WHOLESALE_MULT), n)], q)
    q = np.where(guest, GUEST_QTY[rng.integers(0, len(GUEST_QTY), n)], q)
    bulk = rng.random(n) < 0.0005
    return np.where(bulk, q * rng.integers(10, 100, n), q).astype(np.int64)


def basket_lines(rng, cat: Catalogue, inv: np.ndarray, n_lines: np.ndarray):
    """Expand invoices into product lines; a product appears once per invoice (mostly)."""
    line_inv = np.repeat(inv, n_lines)
    starts = np.cumsum(n_lines) - n_lines
    pos = 4 * (np.arange(len(line_inv)) - np.repeat(starts, n_lines))
    prod = cat.draw(rng, len(line_inv))
    order = unique_key_order(line_inv, prod, cat.size)
    same = (np.diff(line_inv[order]) == 0) & (np.diff(prod[order]) == 0)
    again = order[1:][same]
    prod[again] = cat.draw(rng, len(again))
    return line_inv, pos, prod


def line_prices_and_descs(rng, cat: Catalogue, prod: np.ndarray):
    """Catalogue price and description, with the rare per-line variation of the original."""
    n = len(prod)
    price = np.where(rng.random(n) < 0.02, cat.alt_price[prod], cat.price[prod])
    alt = cat.alt_desc[prod]
    desc = np.where((alt >= 0) & (rng.random(n) < 0.25), alt, prod)
    return price, desc


def invoice_sizes(rng, n: int, median: float, basket, cap: int) -> np.ndarray:
    size = np.rint(rng.lognormal(np.log(median) + np.log(basket), 0.8, n))
    small = rng.random(n) < 0.1
    return np.where(small, rng.integers(1, 4, n), np.clip(size, 1, cap)).astype(np.int64)


@dataclass(frozen=True)
class Purchases:
    """Purchase invoices of one population (customers or guests) and their lines."""

    inv: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    cust: np.ndarray
    country: np.ndarray
    line_inv: np.ndarray  # local invoice index (into the arrays above)
    pos: np.ndarray
    prod: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    desc: np.ndarray

    @property
    def n_lines(self) -> int:
        return len(self.line_inv)


def customer_purchases(rng, ch: ChunkBuilder, cu: Customers, ctx: Context, first: int):
    cal = ctx.calendar
    n_inv = 1 + rng.poisson(cu.rate * (cu.stop - cu.u0))
    if first == 0:
        n_inv[0] = 0  # customer 12346 only has the 74215 purchase and its cancellation
    owner = np.repeat(np.arange(len(n_inv)), n_inv)
    m = len(owner)
    is_first = np.zeros(m, dtype=bool)
    is_first[(np.cumsum(n_inv) - n_inv)[n_inv > 0]] = True
    u = np.where(is_first, cu.u0[owner], cu.u0[owner] + (cu.stop - cu.u0)[owner] * rng.random(m))
    day = cal.day_of(u)
    minute = draw_minutes(rng, m)
    return invoices_with_lines(rng, ch, cu, ctx, owner, day, minute)


def invoices_with_lines(rng, ch, cu: Customers, ctx: Context, owner, day, minute) -> Purchases:
    """Purchase invoices of the given customers (indices into `cu`) and their lines."""
    cat = ctx.catalogue
    m = len(owner)
    second = cu.second_country[owner]
    country = np.where((second >= 0) & (rng.random(m) < 0.4), second, cu.country[owner])
    cust = cu.ids[owner]
    inv = ch.add_invoices(day, minute, cust, country, PURCHASE)

    sizes = invoice_sizes(rng, m, 12.0, cu.basket[owner], 60)
    local, pos, prod = basket_lines(rng, cat, np.arange(m), sizes)
    qty = draw_quantities(rng, prod, cat.pack, cu.wholesale[owner][local], False)
    price, desc = line_prices_and_descs(rng, cat, prod)
    free = rng.choice(len(local), min(len(local), max(2, rng.poisson(len(local) * 1e-4))), False)
    price[free] = 0  # free items on real purchases
    ch.add_lines(inv[local], prod, desc, qty, price, pos)
    return Purchases(inv, day, minute, cust, country, local, pos, prod, qty, price, desc)


def campaign_purchases(rng, ch: ChunkBuilder, cu: Customers, ctx: Context) -> None:
    """The extra invoices a simulated campaign causes: treated customers buy at their own
    rate times the uplift over the part of the measured window they are active in, on top
    of their usual invoices, so their expected purchases there are (1 + uplift) times."""
    campaign, cal = ctx.campaign, ctx.calendar
    first_day = (campaign.start - cal.dates[0]).days
    last_day = (campaign.measured_until - cal.dates[0]).days
    if last_day < 0 or first_day >= cal.n_days:
        return
    window_start = cal.cum[first_day - 1] if first_day > 0 else 0.0
    window_end = cal.cum[min(last_day, cal.n_days - 1)]
    active_from = np.maximum(cu.u0, window_start)
    overlap = np.maximum(0.0, np.minimum(cu.stop, window_end) - active_from)
    treated = campaign.treated(cu.ids)
    extra = rng.poisson(campaign.uplift * cu.rate * overlap * treated)
    owner = np.repeat(np.arange(len(extra)), extra)
    if len(owner) == 0:
        return
    u = active_from[owner] + overlap[owner] * rng.random(len(owner))
    day = cal.day_of(u)
    invoices_with_lines(rng, ch, cu, ctx, owner, day, draw_minutes(rng, len(owner)))


def guest_purchases(rng, ch: ChunkBuilder, ctx: Context, target_lines: int) -> Purchases:
    cal, cat = ctx.calendar, ctx.catalogue
    guess = max(1, int(target_lines / 15))
    sizes = invoice_sizes(rng, guess, 14.0, np.ones(guess), 120)
    m = max(1, int(np.searchsorted(np.cumsum(sizes), target_lines)) + 1)
    sizes = sizes[:m]
    m = len(sizes)
    day = cal.day_of(rng.random(m))
    minute = draw_minutes(rng, m)
    country = rng.choice(len(COUNTRIES), size=m, p=GUEST_COUNTRY_P)
    cust = np.full(m, NO_CUSTOMER)
    inv = ch.add_invoices(day, minute, cust, country, PURCHASE)
    local, pos, prod = basket_lines(rng, cat, np.arange(m), sizes)
    qty = draw_quantities(rng, prod, cat.pack, False, True)
    price, desc = line_prices_and_descs(rng, cat, prod)
    ch.add_lines(inv[local], prod, desc, qty, price, pos)
    return Purchases(inv, day, minute, cust, country, local, pos, prod, qty, price, desc)


def cancel_times(rng, cal: Calendar, day: np.ndarray, minute: np.ndarray):
    """A moment strictly after each purchase: minutes later, or days to weeks later."""
    n = len(day)
    later = day + 1 + np.floor(rng.exponential(9.0, n)).astype(np.int64)
    later = cal.next_open[np.minimum(later, cal.n_days - 1)]
    same_day = (rng.random(n) < 0.3) | (later <= day)
    new_day = np.where(same_day, day, later)
    soon = np.minimum(minute + rng.integers(1, 120, n), CLOSING_MINUTE)
    return new_day, np.where(same_day, soon, draw_minutes(rng, n))


def cancellations(rng, ch: ChunkBuilder, pu: Purchases, ctx: Context) -> None:
    """C invoices reversing all or part of some lines of earlier customer invoices."""
    n_inv = len(pu.inv)
    if n_inv == 0:
        return
    chosen = rng.random(n_inv) < 0.14
    pick = chosen[pu.line_inv] & (rng.random(pu.n_lines) < 0.1)
    counts = np.bincount(pu.line_inv, minlength=n_inv)
    starts = np.cumsum(counts) - counts
    src = np.flatnonzero(chosen & (counts > 0))
    pick[starts[src] + (rng.random(len(src)) * counts[src]).astype(np.int64)] = True
    day, minute = cancel_times(rng, ctx.calendar, pu.day[src], pu.minute[src])
    c_inv = np.full(n_inv, -1)
    c_inv[src] = ch.add_invoices(day, minute, pu.cust[src], pu.country[src], CANCEL)
    lines = np.flatnonzero(pick)
    q = pu.qty[lines]
    partial = (rng.random(len(lines)) < 0.35) & (q > 1)
    part = 1 + (rng.random(len(lines)) * np.maximum(q - 1, 1)).astype(np.int64)
    qty = -np.where(partial, part, q)
    code = pu.prod[lines]
    ch.add_lines(
        c_inv[pu.line_inv[lines]],
        code,
        pu.desc[lines],
        qty,
        pu.price[lines],
        pu.pos[lines],
    )


def orphan_cancellations(rng, ch: ChunkBuilder, cu: Customers, pu: Purchases, ctx: Context):
    """Cancellations of purchases made before the window starts, so mostly early on."""
    cat = ctx.catalogue
    active = np.unique(pu.cust)
    n = max(1, rng.poisson(pu.n_lines * 0.0012)) if len(active) else 0
    if n == 0:
        return
    cust = rng.choice(active, n)
    country = cu.country[cust - cu.ids[0]]
    day = ctx.calendar.day_of(rng.random(n) ** 3)
    inv = ch.add_invoices(day, draw_minutes(rng, n), cust, country, CANCEL)
    sizes = rng.integers(1, 4, n)
    local, pos, prod = basket_lines(rng, cat, np.arange(n), sizes)
    qty = -draw_quantities(rng, prod, cat.pack, False, False)
    ch.add_lines(inv[local], prod, prod, qty, cat.price[prod], pos)


def stock_adjustments(rng, ch: ChunkBuilder, n_lines: int, ctx: Context) -> None:
    """Negative quantity, price 0, no customer, free-text or empty description."""
    n = rng.poisson(n_lines * 0.0025)
    if n == 0:
        return
    prod = rng.integers(0, ctx.catalogue.size, n)
    desc = ctx.adjustment_desc[rng.integers(0, len(ctx.adjustment_desc), n)]
    qty = -np.clip(np.rint(rng.lognormal(np.log(6), 1.4, n)), 1, 9600).astype(np.int64)
    ch.add_single_line_invoices(rng, ctx.calendar, n, prod, desc, qty, 0, NO_CUSTOMER, UK, PURCHASE)


def _count(rng, n_lines: int, rate: float, minimum: int) -> int:
    return max(minimum, int(rng.poisson(n_lines * rate)))


def _lognormal_price(rng, median_milli: float, sigma: float, n: int, step: int = 10):
    return np.maximum(np.rint(rng.lognormal(np.log(median_milli), sigma, n) / step), 1) * step


END_OF_INVOICE = 4 << 20  # pos of service lines: after every product line


def service_lines(rng, ch, cu: Customers, cp: Purchases, gp: Purchases, ctx, first_chunk):
    """Postage, carriage, manual lines, fees, vouchers: the non-product stock codes.

    Rates are per line of the chunk; the first chunk (the demo file) shows every code.
    """
    c, d = ctx.code, ctx.desc
    at_least = 1 if first_chunk else 0
    n_all = cp.n_lines + gp.n_lines
    customers = np.unique(cp.cust)

    def choice(*values):
        return lambda n: rng.choice(np.array(values, dtype=np.int64), n)

    def lognormal(median, sigma):
        return lambda n: _lognormal_price(rng, median, sigma, n)

    def attach(pu: Purchases, sel, code, qty, price):
        """Add one line with this code to each selected invoice (repeats allowed)."""
        ch.add_lines(pu.inv[sel], c(code), d(code), qty(len(sel)), price(len(sel)), END_OF_INVOICE)

    def sprinkle(pu: Purchases, code, rate, price):
        n = _count(rng, n_all, rate, at_least) if len(pu.inv) else 0
        attach(pu, rng.choice(len(pu.inv), n), code, choice(1), price)

    def standalone(code, rate, who, price):
        """One-line C invoices: refunds, discounts, samples, marketplace fees, commission."""
        n = _count(rng, n_all, rate, at_least)
        cust = who(n)
        known = cust >= 0
        country = np.full(n, UK)
        country[known] = cu.country[cust[known] - cu.ids[0]]
        line = (c(code), d(code), -1, price(n))
        ch.add_single_line_invoices(rng, ctx.calendar, n, *line, cust, country, CANCEL)

    def anyone(n):
        return rng.choice(customers, n) if len(customers) else np.full(n, NO_CUSTOMER)

    def nobody(n):
        return np.full(n, NO_CUSTOMER)

    n_cp, n_gp = len(cp.inv), len(gp.inv)
    # Export orders pay postage, Irish ones carriage; dotcom (guest) orders dotcom postage.
    foreign = np.flatnonzero((cp.country != UK) & (rng.random(n_cp) < 0.4))
    attach(cp, foreign, "POST", choice(1, 1, 1, 1, 2, 2, 3, 4), choice(18000, 18000, 15000, 40000))
    irish = ((cp.country == EIRE) & (rng.random(n_cp) < 0.45)) | (rng.random(n_cp) < 0.0015)
    attach(cp, np.flatnonzero(irish), "C2", choice(1), choice(50000, 50000, 25000, 18000))
    attach(gp, np.flatnonzero(rng.random(n_gp) < 0.1), "DOT", choice(1), lognormal(150_000, 1.0))

    for code in GIFT_CODES:
        # Vouchers are sold net of VAT: a 20 pound voucher costs 16.67.
        sprinkle(gp, code, 1.2e-5, choice(round(int(code[-2:]) * MILLI / 1.2, -1)))
    sprinkle(cp, "M", 7e-4, lognormal(2500, 1.5))
    sprinkle(cp, "m", 2e-6, choice(2550))
    sprinkle(cp, "PADS", 1e-5, choice(1))
    sprinkle(cp, "BANK CHARGES", 4e-5, choice(15000))

    cruk = anyone(1)  # all CRUK commission lines belong to one customer, as in the original
    standalone("M", 3e-4, anyone, lognormal(5000, 1.6))
    standalone("D", 1.5e-4, anyone, lognormal(15_000, 1.0))
    standalone("S", 1.2e-4, nobody, lognormal(40_000, 1.2))
    standalone("AMAZONFEE", 6e-5, nobody, lognormal(6e6, 0.6))
    standalone("BANK CHARGES", 3e-5, anyone, choice(15000))
    standalone("CRUK", 3e-5, lambda n: np.repeat(cruk, n), lognormal(100_000, 1.2))


# ------------------------------------------------------------------------- landmarks


def landmarks(rng, ch: ChunkBuilder, cu: Customers, ctx: Context) -> None:
    """One-off extreme lines of the original data, placed once, in the first chunk.

    Day offsets are those of the original window (2010-12-01 = 0) and snap to an open day.
    """
    cal, c, d = ctx.calendar, ctx.code, ctx.desc
    origin = (ONLINE_RETAIL_START - cal.dates[0]).days
    origin = origin if 0 <= origin < cal.n_days else 0
    uk = np.flatnonzero(cu.country[1:] == UK) + 1
    pool = uk if len(uk) >= 3 else np.arange(1, len(cu.ids))
    bulk_buyer, free_buyer, picnic_buyer = cu.ids[rng.choice(pool, 3, replace=len(pool) < 3)]

    def pair(cust, day, minute, gap, prod, qty, price, manual=False):
        """A purchase line and the C line that reverses it a few minutes later."""
        kinds = [PURCHASE, CANCEL]
        inv = ch.add_invoices([day, day], [minute, minute + gap], cust, UK, kinds)
        # Reversed by hand: a single Manual line worth the whole purchase.
        manual_back = (c("M"), d("M"), -1, qty * price)
        back = manual_back if manual else (prod, prod, -qty, price)
        lines = list(zip((prod, prod, qty, price), back, strict=True))
        ch.add_lines(inv, *lines, pos=0, protected=True)

    # Customer 12346: 74215 storage jars, cancelled 16 minutes later; nothing else.
    pair(cu.ids[0], cal.open_day_near(origin + 48), 10 * 60 + 1, 16, P_STORAGE_JAR, 74215, 1040)
    pair(bulk_buyer, cal.last_open, 9 * 60 + 15, 12, P_PAPER_CRAFT, 80995, 2080)
    pair(
        picnic_buyer, cal.open_day_near(origin + 191), 15 * 60 + 28, 3, P_PICNIC, 60, 649_500, True
    )

    inv = ch.add_invoices(cal.open_day_near(origin + 359), 15 * 60 + 57, free_buyer, UK, PURCHASE)
    ch.add_lines(inv, P_STICKERS, P_STICKERS, 12540, 0, protected=True)

    bad_debt = cal.open_day_near(origin + 254)
    inv = ch.add_invoices([bad_debt] * 3, [890, 891, 892], NO_CUSTOMER, UK, ADJUST_DEBT)
    ch.add_lines(inv, c("B"), d("B"), 1, [11_062_060, -11_062_060, -11_062_060], protected=True)

    inv = ch.add_invoices(cal.open_day_near(origin + 30), 11 * 60 + 5, NO_CUSTOMER, UK, CANCEL)
    ch.add_lines(inv, c("AMAZONFEE"), d("AMAZONFEE"), -1, 5_942_570, protected=True)


# ------------------------------------------------------------------------ duplicates


def add_duplicates(rng, ch: ChunkBuilder, share: float = 0.0099) -> None:
    """Exact copies of lines, adjacent to or a few lines after the original."""
    lines = ch.line_arrays()
    eligible = np.flatnonzero(~lines["protected"])
    n = min(len(eligible), round(ch.n_lines * share))
    if n == 0:
        return
    src = np.sort(rng.choice(eligible, n, replace=False))
    shift = np.array([1, 1, 1, 5, 9, 13])[rng.integers(0, 6, n)]
    ch.add_lines(
        lines["inv"][src],
        lines["code"][src],
        lines["desc"][src],
        lines["qty"][src],
        lines["price"][src],
        lines["pos"][src] + shift,
        True,
    )


# -------------------------------------------------------------------------- assembly


def unique_key_order(major: np.ndarray, minor: np.ndarray, minor_bound: int) -> np.ndarray:
    """Stable order by (major, minor), from one argsort on a tie-free integer key.

    Appending the index makes every key distinct, so the result cannot depend on which
    (possibly CPU-specific) sort algorithm numpy picks.
    """
    n = len(major)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if (int(major.max()) + 1) * minor_bound * n >= 1 << 62:
        return np.lexsort((minor, major))
    return np.argsort((major * minor_bound + minor) * n + np.arange(n))


def format_prices(milli: np.ndarray) -> pa.Array:
    """Shortest float text, as pandas writes it: 2.55, 2.5, 1.0, 0.001, -11062.06."""
    encoded = pa.array(milli).dictionary_encode()
    text = pa.array([repr(v / MILLI) for v in encoded.dictionary.to_pylist()], pa.string())
    return text.take(encoded.indices)


def format_customers(cust: np.ndarray, style: str) -> pa.Array:
    text = pc.cast(pa.array(cust, mask=cust < 0), pa.string())
    return pc.binary_join_element_wise(text, ".0", "") if style == "float" else text


def assemble(ch: ChunkBuilder, ctx: Context, first_invoice: int) -> pa.Table:
    """Number invoices in time order, sort lines by invoice, render every column as text."""
    inv = ch.invoice_arrays()
    lines = ch.line_arrays()
    n_inv = ch.n_invoices
    moment = inv["day"] * 1440 + inv["minute"]
    order = np.lexsort((np.arange(n_inv), inv["kind"], moment))
    rank = np.empty(n_inv, dtype=np.int64)
    rank[order] = np.arange(n_inv)

    line_rank = rank[lines["inv"]]
    line_order = unique_key_order(line_rank, lines["pos"], int(lines["pos"].max()) + 1)
    at = pa.array(line_rank[line_order])

    kind, day, minute = inv["kind"][order], inv["day"][order], inv["minute"][order]
    prefix = pa.array(INVOICE_PREFIX).take(pa.array(kind))
    numbers = pc.cast(pa.array(first_invoice + np.arange(n_inv)), pa.string())
    invoice_no = pc.binary_join_element_wise(prefix, numbers, "")
    date = pc.binary_join_element_wise(
        ctx.day_vocab.take(pa.array(day)), ctx.time_vocab.take(pa.array(minute)), " "
    )
    customer = format_customers(inv["cust"][order], ctx.customer_id_style)
    country = ctx.country_vocab.take(pa.array(inv["country"][order]))

    columns = [
        invoice_no.take(at),
        ctx.code_vocab.take(pa.array(lines["code"][line_order])),
        ctx.desc_vocab.take(pa.array(lines["desc"][line_order])),
        pc.cast(pa.array(lines["qty"][line_order]), pa.string()),
        date.take(at),
        format_prices(lines["price"][line_order]),
        customer.take(at),
        country.take(at),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


# ---------------------------------------------------------------------------- chunks


def guest_line_target(customer_lines: int, chunk_target: float) -> int:
    """Guests fill the chunk up to its share of --lines, within 23-28% of the lines.

    The heavy-tailed customer side alone misses the requested size by up to +-15%.
    """
    low, high = (customer_lines * s / (1 - s) for s in (0.23, 0.28))
    return round(min(max(chunk_target * 0.985 - customer_lines, low), high))


def generate_chunk(ctx: Context, index: int, first_invoice: int) -> tuple[pa.Table, int]:
    """One chunk of customers plus a proportional share of guests and quirks.

    Returns the table and the number of invoice numbers it used.
    """
    rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 1, index]))
    first = index * ctx.chunk_customers
    n = min(ctx.chunk_customers, ctx.n_customers - first)
    ch = ChunkBuilder()
    cu = draw_customers(rng, first, n)
    cp = customer_purchases(rng, ch, cu, ctx, first)
    cancellations(rng, ch, cp, ctx)
    orphan_cancellations(rng, ch, cu, cp, ctx)
    target = ctx.lines * n / ctx.n_customers
    gp = guest_purchases(rng, ch, ctx, guest_line_target(ch.n_lines, target))
    stock_adjustments(rng, ch, ch.n_lines, ctx)
    service_lines(rng, ch, cu, cp, gp, ctx, index == 0)
    if index == 0:
        landmarks(rng, ch, cu, ctx)
    add_duplicates(rng, ch)
    if ctx.campaign is not None:
        # A stream of its own: the lines without the campaign stay exactly as they were
        # (last, so that no other step draws from the campaign's lines).
        campaign_rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 2, index]))
        campaign_purchases(campaign_rng, ch, cu, ctx)
    del cu, cp, gp  # only the builder's arrays are needed from here on
    return assemble(ch, ctx, first_invoice), ch.n_invoices


def generate_chunks(
    lines: int = DEFAULT_LINES,
    seed: int = DEFAULT_SEED,
    *,
    start: dt.date = DEFAULT_START,
    end: dt.date = DEFAULT_END,
    date_format: str = "us",
    customer_id_style: str = "float",
    chunk_customers: int = CHUNK_CUSTOMERS,
    campaign: SimulatedCampaign | None = None,
) -> Iterator[pa.Table]:
    """Yield pyarrow tables (all columns strings) of about ``lines`` lines in total.

    Arguments are checked at the call, before anything is generated or written.
    """
    ctx = build_context(
        lines, seed, start, end, date_format, customer_id_style, chunk_customers, campaign
    )
    return _chunks(ctx)


def _chunks(ctx: Context) -> Iterator[pa.Table]:
    next_invoice = FIRST_INVOICE
    for index in range(-(-ctx.n_customers // ctx.chunk_customers)):
        table, used = generate_chunk(ctx, index, next_invoice)
        next_invoice += used
        yield table
        del table  # do not pin the previous chunk while the next one is generated


# ---------------------------------------------------------------------------- output


def csv_field(value: str) -> str:
    """Minimal CSV quoting, as Python's csv module and pandas write it."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def map_distinct(column: pa.Array, fn) -> pa.Array:
    """Apply a Python function once per distinct value: text columns have few of them,
    and arrow's per-row string kernels cost more than the whole rest of a chunk."""
    encoded = pc.fill_null(column, "").dictionary_encode()
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)


# Only these columns hold free text; the others are rendered numbers and dates.
TEXT_COLUMNS = ("StockCode", "Description", "Country")


def csv_bytes(table: pa.Table) -> memoryview:
    """The CSV body of a table, built with one vectorised string join instead of a row loop.

    The line terminator rides on the last column (Country, a text column), so the join
    of all columns yields complete rows whose buffer is the file content.
    """
    cols = []
    for name in COLUMNS:
        col = table[name].combine_chunks()
        if name == COLUMNS[-1]:
            col = map_distinct(col, lambda v: csv_field(v) + "\n")
        elif name in TEXT_COLUMNS:
            col = map_distinct(col, csv_field)
        cols.append(col)
    if sum(c.nbytes for c in cols) > (1 << 30):
        cols = [c.cast(pa.large_string()) for c in cols]
    rows = pc.binary_join_element_wise(*cols, ",", null_handling="replace")
    if len(rows) == 0:
        return memoryview(b"")
    offset_type = np.int64 if pa.types.is_large_string(rows.type) else np.int32
    offsets = np.frombuffer(rows.buffers()[1], dtype=offset_type)
    begin, end = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    return memoryview(rows.buffers()[2])[begin:end]


class CsvSink:
    def __init__(self, path: Path, compresslevel: int) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 (closed in close())
        self._out = self._file
        if path.name.endswith(".gz"):
            # No file name and mtime 0 in the header keep the bytes reproducible.
            self._out = gzip.GzipFile(
                filename="",
                mode="wb",
                fileobj=self._file,
                compresslevel=compresslevel,
                mtime=0,
            )
        self._out.write((",".join(COLUMNS) + "\n").encode())

    def write(self, table: pa.Table) -> None:
        # Slices bound the memory of the joined text (about 80 bytes a line).
        for start in range(0, table.num_rows, CSV_SLICE):
            self._out.write(csv_bytes(table.slice(start, CSV_SLICE)))

    def close(self) -> None:
        if self._out is not self._file:
            self._out.close()
        self._file.close()


class ParquetSink:
    def __init__(self, path: Path, compression: str = "zstd") -> None:
        self._writer = pq.ParquetWriter(path, SCHEMA, compression=compression)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)

    def close(self) -> None:
        self._writer.close()


def infer_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise ValueError(f"cannot infer the format of {path}; use --format")


def default_compresslevel(lines: int) -> int:
    """gzip level 6 keeps small files (the bundled demo) small; level 1 is 2-3x faster,
    which dominates the run time of large files."""
    return 6 if lines <= 1_000_000 else 1


def write(
    path: str | Path = DEFAULT_OUT,
    lines: int = DEFAULT_LINES,
    seed: int = DEFAULT_SEED,
    *,
    fmt: str | None = None,
    compresslevel: int | None = None,
    **options,
) -> dict[str, int]:
    """Stream the generated lines to CSV (.csv, .csv.gz) or Parquet; returns counts.

    Writing a chunk overlaps with generating the next one (compression and Parquet
    encoding release the GIL), so at most two chunks are alive at a time.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or infer_format(path)
    if compresslevel is None:
        compresslevel = default_compresslevel(lines)
    chunks = generate_chunks(lines, seed, **options)
    sink = ParquetSink(path) if fmt == "parquet" else CsvSink(path, compresslevel)
    stats = {"lines": 0, "chunks": 0}
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for table in chunks:
                if pending is not None:
                    pending.result()
                pending = pool.submit(sink.write, table)
                stats["lines"] += table.num_rows
                stats["chunks"] += 1
            if pending is not None:
                pending.result()
    finally:
        sink.close()
    return stats


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES, help="approximate line count")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default=DEFAULT_OUT, help=".csv, .csv.gz or .parquet")
    parser.add_argument("--format", choices=("csv", "parquet"), default=None)
    parser.add_argument("--date-format", choices=sorted(DATE_FORMATS), default="us")
    parser.add_argument("--customer-id-style", choices=("int", "float"), default="float")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEFAULT_END)
    parser.add_argument("--chunk-customers", type=int, default=CHUNK_CUSTOMERS)
    parser.add_argument(
        "--campaign",
        choices=("demo", "none"),
        default="demo",
        help=f"simulated campaign effect (demo: {DEMO_CAMPAIGN_ID} of seeds/campaigns.csv, "
        f"treating the customers of {DEMO_CAMPAIGN_TREATED})",
    )
    parser.add_argument(
        "--compresslevel",
        type=int,
        choices=range(10),
        default=None,
        help="gzip level for .csv.gz (default: 6 up to 1M lines, 1 above for speed)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def generate() -> str:
        stats = write(
            args.out,
            args.lines,
            args.seed,
            fmt=args.format,
            compresslevel=args.compresslevel,
            start=args.start,
            end=args.end,
            date_format=args.date_format,
            customer_id_style=args.customer_id_style,
            chunk_customers=args.chunk_customers,
            campaign=demo_campaign() if args.campaign == "demo" else None,
        )
        return f"wrote {stats['lines']} lines in {stats['chunks']} chunk(s) to {args.out}"

    return cli.finish(generate, ValueError)


if __name__ == "__main__":
    sys.exit(main())
