"""Words that name a product rather than show a language: brands, series and model words, units.

"Samsung Galaxy" reads as German to an n-gram model and "LG ThinQ" as English, but a customer who
types only a brand and a model has said nothing about the language they speak. language.py takes
these words out before it measures anything. The shipped lists cover common electronics and
appliance brands sold in Latin America and the series names customers type; the tenant's own brands
(products.brand) are added by the reply path. Words that are also ordinary chat words ("note",
"edge", "switch", "go") are left out on purpose: the rule in language.py (a product message with
only a few other words and no chat word names no language) covers them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


# Electronics, phones, computers, appliances, small appliances, audio, air conditioning. One per line;
# multi-word names are matched as a whole ("hamilton beach"), punctuation ignored ("black+decker").
KNOWN_BRANDS = _phrases(
    """
    samsung
    lg
    sony
    panasonic
    philips
    sharp
    toshiba
    hitachi
    jvc
    pioneer
    kenwood
    aiwa
    sansui
    rca
    hisense
    tcl
    haier
    midea
    daewoo
    hyundai
    xiaomi
    redmi
    poco
    huawei
    honor
    oppo
    realme
    vivo
    oneplus
    motorola
    moto
    nokia
    alcatel
    zte
    infinix
    tecno
    itel
    blu
    apple
    google
    lenovo
    hp
    dell
    asus
    acer
    msi
    gigabyte
    razer
    logitech
    microsoft
    xbox
    playstation
    nintendo
    epson
    canon
    brother
    kodak
    nikon
    gopro
    jbl
    bose
    sennheiser
    skullcandy
    beats
    marshall
    harman kardon
    klipsch
    yamaha
    whirlpool
    mabe
    electrolux
    frigidaire
    ge
    general electric
    ge appliances
    kitchenaid
    maytag
    amana
    bosch
    siemens
    miele
    beko
    indesit
    candy
    teka
    smeg
    brastemp
    consul
    continental
    drean
    patrick
    gafa
    atma
    indurama
    fensa
    mademsa
    durex
    magic chef
    westinghouse
    frigilux
    premium
    siragon
    imaco
    oster
    sunbeam
    black+decker
    black & decker
    black and decker
    hamilton beach
    cuisinart
    ninja
    nutribullet
    t-fal
    tefal
    moulinex
    rowenta
    krups
    delonghi
    de'longhi
    nespresso
    dolce gusto
    taurus
    remington
    braun
    conair
    babyliss
    wahl
    dyson
    irobot
    roomba
    carrier
    york
    trane
    lennox
    daikin
    fujitsu
    mitsubishi
    gree
    comfortstar
    airmax
    innovair
    ecox
    mueller
    arno
    mondial
    britania
    britânia
    philco
    semp
    multilaser
    positivo
    lenoxx
    hurricane
    ezviz
    tp-link
    tplink
    mercusys
    netgear
    d-link
    ubiquiti
    sandisk
    kingston
    seagate
    western digital
    wd
    crucial
    adata
    anker
    baseus
    ugreen
    belkin
    energizer
    duracell
    stanley
    dewalt
    makita
    truper
    pretul
    karcher
    kärcher
    """
)

# Series and model words customers type after (or instead of) a brand, model-name suffixes, panel
# and appliance technology, and product phrases every language borrows ("frost free", "side by side").
MODEL_WORDS = _phrases(
    """
    galaxy
    iphone
    ipad
    ipod
    macbook
    imac
    airpods
    pixel
    xperia
    bravia
    aquos
    regza
    viera
    lumix
    thinq
    nanocell
    instaview
    gram
    ideapad
    thinkpad
    thinkbook
    legion
    yoga
    pavilion
    victus
    omen
    elitebook
    probook
    deskjet
    laserjet
    officejet
    inspiron
    latitude
    vostro
    alienware
    xps
    vivobook
    zenbook
    rog
    tuf
    aspire
    nitro
    predator
    chromebook
    surface
    ecotank
    pixma
    mate
    matepad
    freebuds
    razr
    reno
    narzo
    camon
    pova
    airfryer
    sonicare
    oneblade
    ambilight
    soundlink
    quietcomfort
    partybox
    boombox
    ecobubble
    bespoke
    crystal uhd
    neo qled
    qled
    oled
    uhd
    fhd
    hdr
    led
    lcd
    amoled
    smart tv
    android tv
    google tv
    inverter
    dual inverter
    frost free
    no frost
    side by side
    top mount
    bottom freezer
    french door
    dual sim
    doble sim
    sim card
    usb
    usb-c
    hdmi
    wifi
    wi-fi
    pro
    max
    ultra
    plus
    lite
    mini
    neo
    fe
    se
    """
)

# Unit abbreviations, mostly written after a number ("17 kg", "12000 BTU").
UNITS = _phrases(
    """
    kg
    kgs
    lb
    lbs
    cm
    mm
    mts
    l
    lt
    lts
    ltr
    btu
    btus
    w
    kw
    v
    hz
    mhz
    ghz
    gb
    tb
    mb
    mah
    pulg
    """
)


def name_words(name: str) -> tuple[str, ...]:
    """A name as the words language.py compares: lower case, letters only ("Black+Decker" -> black, decker)."""
    return tuple(_WORD.findall(name.lower().replace("’", "'")))


class ProductNames:
    """Finds product names (one or several words) in a message's words and takes them out."""

    def __init__(self, names: Iterable[str], keep: frozenset[str] = frozenset()) -> None:
        # `keep`: words never taken out alone (a brand called "Hello" must not hide a greeting).
        self._phrases: dict[str, set[tuple[str, ...]]] = {}
        self._longest = 1
        for name in names:
            words = name_words(name)
            if not words or (len(words) == 1 and words[0] in keep):
                continue
            self._phrases.setdefault(words[0], set()).add(words)
            self._longest = max(self._longest, len(words))

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def without_names(self, words: list[str]) -> tuple[list[str], bool]:
        """`words` without the product names in them, and whether any was there. Longest name first."""
        kept: list[str] = []
        found = False
        i = 0
        while i < len(words):
            candidates = self._phrases.get(words[i])
            size = 0
            if candidates:
                for length in range(min(self._longest, len(words) - i), 0, -1):
                    if tuple(words[i : i + length]) in candidates:
                        size = length
                        break
            if size:
                found = True
                i += size
            else:
                kept.append(words[i])
                i += 1
        return kept, found
