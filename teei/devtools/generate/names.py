"""Who the generated people are called, where they live and which companies lend volunteers.

Name pools have coprime sizes (see `people.NamePool`), so every combination names one person.
"""

from __future__ import annotations

# Ukrainian names in the official Latin transliteration (KMU 2010), as people type them in emails.
UKRAINIAN_FIRST = (
    "olena", "taras", "iryna", "oleksandr", "kateryna", "dmytro", "yuliia", "andrii", "nataliia", "serhii",
    "oksana", "mykola", "svitlana", "bohdan", "halyna", "vasyl", "mariia", "yurii", "tetiana", "ivan",
    "anastasiia", "viktoriia", "oleh", "liudmyla", "roman", "sofiia", "maksym", "daryna", "volodymyr", "khrystyna",
)  # fmt: skip
UKRAINIAN_LAST = (
    "kovalenko", "shevchenko", "bondarenko", "tkachenko", "kravchenko", "melnyk", "boiko", "koval", "oliinyk",
    "lysenko", "marchenko", "savchenko", "rudenko", "moroz", "petrenko", "pavlenko", "hnatiuk", "kovalchuk",
    "polishchuk", "tkachuk", "romaniuk", "honcharenko", "kuzmenko", "ponomarenko", "yaremchuk", "danylenko",
    "fedorenko", "symonenko", "hrytsenko", "bilous", "zhuk",
)  # fmt: skip
# Arabic, Farsi and Tigrinya names, written in Latin script: (first names, family names) per language.
OTHER_NAMES = (
    (
        ("ahmad", "fatima", "omar", "layla", "yousef", "mariam", "khaled", "noor", "samir", "rania", "hassan", "amira",
         "tariq"),
        ("haddad", "al-sayed", "khalil", "mansour", "nasser", "saleh", "darwish", "hamdan", "abbas", "suleiman"),
    ),
    (
        ("reza", "zahra", "dariush", "shirin", "hamid", "nasrin", "ali", "maryam", "mehdi", "parisa", "farhad"),
        ("hosseini", "karimi", "rahimi", "ahmadi", "mohammadi", "rezaei", "jafari", "moradi"),
    ),
    (
        ("dawit", "selam", "yonas", "mehret", "amanuel", "senait", "tesfay", "helen", "filmon", "saba", "yohannes"),
        ("tesfaye", "gebremedhin", "berhane", "habte", "kidane", "abraha", "tekle", "mebrahtu"),
    ),
)  # fmt: skip
PARTICIPANT_DOMAINS = ("example.org", "example.net", "example.com")
# Volunteers: (as written, in an email address).
VOLUNTEER_FIRST = (
    ("Ingrid", "ingrid"), ("Lars", "lars"), ("Kari", "kari"), ("Ola", "ola"), ("Sofie", "sofie"),
    ("Henrik", "henrik"), ("Emma", "emma"), ("Jonas", "jonas"), ("Nora", "nora"), ("Magnus", "magnus"),
    ("Bjørn", "bjorn"), ("Solveig", "solveig"), ("Åse", "aase"), ("Øystein", "oystein"), ("Kjærsti", "kjaersti"),
    ("Sarah", "sarah"), ("James", "james"), ("Tone", "tone"), ("Håkon", "haakon"), ("Sindre", "sindre"),
    ("Marte", "marte"),
)  # fmt: skip
VOLUNTEER_LAST = (
    ("Berg", "berg"), ("Hansen", "hansen"), ("Johansen", "johansen"), ("Larsen", "larsen"), ("Nilsen", "nilsen"),
    ("Olsen", "olsen"), ("Dahl", "dahl"), ("Haugen", "haugen"), ("Lie", "lie"), ("Sæther", "saether"),
    ("Strøm", "strom"), ("Løvås", "lovaas"), ("Ødegård", "odegaard"), ("Bråten", "braaten"), ("Smith", "smith"),
    ("Aas", "aas"),
)  # fmt: skip
# (code, name, email domain, industry, country); the names fit Windows-1252.
COMPANIES = (
    ("NLE", "Nordlys Energi AS", "nordlys-energi.example", "Energy", "NO"),
    ("FSB", "Fjellstrøm Sparebank", "fjellstrom.example", "Banking", "NO"),
    ("BLG", "Bølge Shipping ASA", "bolge-shipping.example", "Shipping", "NO"),
    ("AML", "Ærlig Mat AS", "aerligmat.example", "Food and beverage", "NO"),
    ("SKH", "Skogheim Helse AS", "skogheim.example", "Healthcare", "NO"),
    ("TRV", "Tårnvik Bygg AS", "tarnvik.example", "Construction", "NO"),
    ("ACM", "Acme Consulting AS", "acme.example", "Consulting", "NO"),
    ("NWD", "Northwind Logistics AB", "northwind.example", "Logistics", "SE"),
    ("CTS", "Contoso Software ApS", "contoso.example", "Software", "DK"),
    ("FAB", "Fabrikam Industri AS", "fabrikam.example", "Manufacturing", "NO"),
    ("MJR", "Mjøsa Reiseliv AS", "mjosa-reiseliv.example", "Tourism", "NO"),
    ("LYT", "Lysaker Telekom ASA", "lysaker-tele.example", "Telecom", "NO"),
)
CITIES = ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Kristiansand", "Bodø", "Ålesund")
