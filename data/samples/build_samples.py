#!/usr/bin/env python3
"""Build the bundled offline sample corpus for the news-ingestion pipeline.

Everything here is fictional and was written for this project: the three
outlets, their reporters, the people quoted and the events described.  The
wire agencies named (Reuters, AP, AFP) are real organisations, but the wire
stories and the agency reporters credited are invented.  The only text not
written for the project is the seed page (see SEED_TEXT), which reproduces a
real-world extraction defect (the whole body repeated twice).

Run from anywhere:

    python3 data/samples/build_samples.py

The script is deterministic (no clock, no randomness) and only uses the
standard library.  It rewrites the three outlet folders, truth.json and
nothing else.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import zlib
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

HERE = Path(__file__).resolve().parent


def P(block: str) -> list[str]:
    """Split a text block into paragraphs (blank-line separated, whitespace normalised)."""
    return [" ".join(part.split()) for part in block.strip().split("\n\n")]


# --------------------------------------------------------------------------
# Outlets
# --------------------------------------------------------------------------

OUTLETS = {
    "northgate-herald": {
        "name": "Northgate Herald",
        "site": "https://www.northgate-herald.example/",
        "feed_file": "feed.xml",
        "feed_format": "rss",
        "language": "en-gb",
        "tzname": "BST",
        "description": "News, sport and weather from Northgate and beyond.",
        "nav": ["Home", "Northgate News", "UK & World", "Business", "Politics",
                "Sport", "Weather & Travel", "Science & Tech"],
    },
    "coastal-ledger": {
        "name": "The Coastal Ledger",
        "site": "https://coastal-ledger.example/",
        "feed_file": "atom.xml",
        "feed_format": "atom",
        "language": "en-US",
        "tzname": "EDT",
        "description": "Port Ellery, Hatch Island and the Ellery County shore.",
        "nav": ["Local", "Business", "Politics", "Sports", "Weather",
                "Obituaries", "Opinion", "Classifieds", "e-Edition"],
    },
    "valley-wire-daily": {
        "name": "Valley Wire Daily",
        "site": "https://valleywiredaily.example/",
        "feed_file": "rss.xml",
        "feed_format": "rss",
        "language": "en-in",
        "tzname": "IST",
        "description": "Latest news from Ambarpet, the valley, the state and the world.",
        "nav": ["Home", "Valley", "State", "Nation", "World", "Business",
                "Sports", "Tech", "Lifestyle", "Web Stories"],
    },
}

AGENCY_AUTHORS = {"Reuters", "AP", "AFP", "Agencies", "Associated Press",
                  "Agence France-Presse"}


# --------------------------------------------------------------------------
# Syndicated wire stories.  Each has one verbatim "original" page and one or
# two edited copies on other outlets.
#   copy edits: dateline (inline or on its own line), byline, headline, quotes
#   (straight/curly), trim (fraction of paragraphs kept), insert (index, local
#   paragraph), replace [(paragraph index, old, new)], trailer.
# --------------------------------------------------------------------------

WIRE_STORIES = [
    {
        "key": "wire-port-strike",
        "agency": "Reuters",
        "paragraphs": P("""
Dockworkers at Lisbon's two largest container terminals voted on Wednesday to extend their strike by another ten days after overnight talks with terminal operator Atlantica Terminais broke down over pay and shift patterns, leaving dozens of ships waiting at anchor in the Tagus estuary and exporters scrambling to find other routes for autumn cargo.

The Tagus Dockworkers' Union, which represents about 1,400 port workers, said members had rejected a revised offer of a 4.5% pay rise spread over two years by a margin of almost four to one. The union argues the offer fails to keep pace with rents in the Portuguese capital and does nothing to limit the use of split night shifts, which it says have become routine since the spring.

"We came to the table in good faith and we left with nothing that our members can take home to their families," union negotiator Rui Macedo told reporters outside the terminal gates at Alcântara shortly after dawn. "The strike continues until there is a serious proposal, and by serious I mean one that deals with the shifts as well as the money."

Atlantica Terminais, which runs both terminals under a public concession that expires in 2041, said in a statement that its offer was "fair and responsible" and that further increases would threaten the port's competitiveness at a time when shipping lines were reviewing their Iberian schedules. The company said it was ready to resume talks "at any hour" but would not negotiate through the media.

According to port authority figures, 31 vessels were waiting to berth on Wednesday morning, up from 19 at the start of the week. Two container lines have already diverted calls to Sines, about 150 km to the south, and to Valencia in Spain, shipping agents said, while a cruise operator moved a scheduled Lisbon stop to Porto.

Exporters of cork, wine and paper products have warned that the stoppage, now in its eighth day, is costing the sector millions of euros and risks damaging relationships with overseas buyers ahead of the busy pre-Christmas shipping season. A trade association for food exporters said some perishable cargo had been trucked to Spanish ports at three times the usual cost.

The government has so far declined to intervene directly. A labour ministry official said on Tuesday that state mediators remained available to both sides and that minimum service requirements covering medicines, fuel and animal feed were being respected. Opposition lawmakers have called for an urgent parliamentary hearing on the dispute next week.

The strike has also disrupted Portugal's island supply routes. Feeder ships carrying food and building materials to the Azores and Madeira normally load in Lisbon, and regional officials in Madeira said supermarkets there had begun limiting some imported goods as a precaution while alternative sailings from Sines were arranged.

Analysts said the dispute reflected wider tensions across European ports, where automation plans and rising living costs have fuelled a string of walkouts this year. "Ports are where pressure in the labour market becomes visible very quickly, because every day of stoppage shows up as a queue of ships you can see from the shore," said Marta Quintela, a logistics economist at a Lisbon business school.
"""),
        "original": {
            "outlet": "coastal-ledger",
            "url": "https://coastal-ledger.example/world/lisbon-dockworkers-extend-strike-20250827.html",
            "section": "World",
            "headline": "Lisbon dockworkers extend strike as pay talks break down",
            "byline": "By Ana Ferreira, Reuters",
            "author": "Ana Ferreira",
            "published": "2025-08-27T07:55:00-04:00",
            "dateline": "LISBON, Aug 27 (Reuters) -",
            "trailer": "(Reporting by Ana Ferreira; Editing by Mark Doyle)",
        },
        "copies": [
            {
                "outlet": "northgate-herald",
                "url": "https://www.northgate-herald.example/news/2025/08/28/port-talks-stall.html",
                "section": "UK & World",
                "headline": "Port talks stall as Lisbon strike enters second week",
                "byline": "By Staff Writer",
                "author": "Staff Writer",
                "published": "2025-08-28T07:41:00+01:00",
                "dateline": "Lisbon:",
                "quotes": "curly",
                "replace": [
                    (4, "shipping agents said,", "according to shipping agents,"),
                    (5, "ahead of the busy pre-Christmas shipping season",
                     "ahead of the busy run-up to Christmas"),
                ],
                "insert": (6, "The dispute is already being felt in Northgate. Petra Lowe, managing director of Lowe Freight on the Canal Street industrial estate, said two containers of Portuguese floor tiles ordered by a city housing developer had been stuck on the quayside in Lisbon since last week. \"We've told customers to expect delays of at least a fortnight, and nobody can tell us when the boxes will move,\" she said."),
                "trailer": "(With Reuters inputs)",
            },
            {
                "outlet": "valley-wire-daily",
                "url": "https://valleywiredaily.example/world/lisbon-port-strike-extended-ships-queue.html",
                "section": "World",
                "headline": "Lisbon port strike extended, ships queue in Tagus",
                "byline": "Reuters",
                "author": "Reuters",
                "published": "2025-08-27T21:10:00+05:30",
                "dateline": "LISBON, Aug 27 (Reuters) -",
                "quotes": "straight",
                "trim": 0.6,
                "trailer": "(Reporting by Ana Ferreira; Editing by Mark Doyle)",
            },
        ],
    },
    {
        "key": "wire-glacier-melt",
        "agency": "AFP",
        "paragraphs": P("""
Switzerland's glaciers lost an estimated 3.8 percent of their remaining ice volume over the past twelve months, the steepest annual decline since systematic measurements began, according to a survey published on Wednesday by the Alpine Ice Monitoring Network. The network's annual report is based on measurements at 20 reference glaciers, combined with aerial surveys of about 1,400 smaller ones.

The network, a consortium of university and federal research teams, said a dry winter with little snowfall had left glaciers exposed early in the season, before two long heatwaves in June and July pushed the freezing level above 5,000 metres for several days running.

"What we measured this year is not a bad summer on top of a normal trend, it is the trend itself accelerating," said glaciologist Mireille Vautrin, who coordinates the network's field campaigns. "Some of the smaller glaciers we visited in 2015 are now little more than scattered patches of dirty ice."

Field teams recorded thinning of up to four metres at the tongues of several large valley glaciers in the Valais and Bernese Alps. At higher altitudes, where ice usually gains mass in winter, stakes drilled into the surface showed losses for the third year in a row. At one site, researchers found that a meltwater stream had carved a channel more than ten metres deep into the ice in a single season.

The researchers estimate that Swiss glaciers have now lost close to 40 percent of their volume since 2000. Around a dozen small glaciers were removed from the national inventory this year because they no longer move under their own weight, the usual threshold for distinguishing a glacier from a static ice field.

The shrinking ice has practical consequences for communities downstream. Meltwater feeds rivers that supply hydropower plants and irrigation in late summer, and retreating glaciers can leave behind unstable slopes and new lakes that pose flood risks to villages below.

Authorities in one Valais municipality ordered a precautionary evacuation of about 60 holiday chalets this month after monitoring equipment detected movement in loose rock above a retreating glacier, local officials said. Residents were allowed back after four days.

Vautrin said the network would expand its use of drones and satellite imagery to track the fastest-changing sites, but warned that ground measurements remained essential. "Satellites tell you where the ice is going. Someone still has to walk up there and find out how fast," she said.

The findings come ahead of an international conference on mountain water resources in Geneva in October, where scientists are expected to press governments to plan for summers in which glacier melt, once a reliable buffer against drought, can no longer be counted on.
"""),
        "original": {
            "outlet": "northgate-herald",
            "url": "https://www.northgate-herald.example/science/2025/08/27/swiss-glaciers-record-ice-loss.html",
            "section": "Science & Tech",
            "headline": "Swiss glaciers lose record share of ice in a single year, survey finds",
            "byline": "Agence France-Presse",
            "author": "AFP",
            "published": "2025-08-27T10:20:00+01:00",
            "dateline": "GENEVA, Aug 27 (AFP) -",
            "trailer": "-- AFP",
        },
        "copies": [
            {
                "outlet": "coastal-ledger",
                "url": "https://coastal-ledger.example/science/alpine-ice-in-steep-retreat-20250827.html",
                "section": "Science",
                "headline": "Alpine ice in steep retreat after hot, dry year",
                "byline": "By Agence France-Presse",
                "author": "Agence France-Presse",
                "published": "2025-08-27T08:45:00-04:00",
                "dateline": "GENEVA —",
                "quotes": "curly",
                "trim": 0.6,
                "trailer": "— Agence France-Presse",
            },
            {
                "outlet": "valley-wire-daily",
                "url": "https://valleywiredaily.example/world/swiss-glaciers-shrink-fastest-pace.html",
                "section": "World",
                "headline": "Swiss glaciers shrink at fastest pace on record",
                "byline": "Agencies",
                "author": "Agencies",
                "published": "2025-08-27T19:30:00+05:30",
                "dateline": "Geneva, August 27",
                "dateline_style": "separate",
                "quotes": "straight",
                "replace": [
                    (0, "the steepest annual decline since systematic measurements began",
                     "the sharpest annual fall since records began"),
                    (5, "pose flood risks to villages below",
                     "threaten villages below with flooding"),
                ],
                "trailer": "(With AFP inputs)",
            },
        ],
    },
    {
        "key": "wire-battery-plant",
        "agency": "Reuters",
        "paragraphs": P("""
Swedish battery maker Voltrena said on Thursday it would delay the opening of its planned cell factory in western Poland by at least a year, blaming slower-than-expected electric vehicle sales in Europe and a reshuffle of orders by two of its carmaker customers.

The plant near the city of Zielona Góra, budgeted at 2.1 billion euros ($2.4 billion), had been due to start production in the second half of 2026 with an initial capacity of 16 gigawatt hours a year, enough for roughly 250,000 cars. Voltrena now expects first output in late 2027 and will build the site in two phases instead of one.

"We are not cancelling anything. We are matching the pace of construction to the pace of the market," Chief Executive Henrik Solberg told analysts on a conference call. "Building capacity that sits idle would be the most expensive mistake we could make right now."

The company said about 600 construction jobs at the site would be unaffected this year, but hiring of production staff, which had been planned to begin in January, would be postponed. Local officials had expected the factory to employ about 1,800 people when fully running.

Voltrena shares fell 6.2% in Stockholm by midday, extending their losses this year to more than 30%. The company also cut its full-year revenue guidance, saying it now expected sales of 14 billion to 15 billion Swedish crowns, down from a previous range of 16 billion to 18 billion.

European battery startups have struggled this year as carmakers scale back electric model launches and Asian rivals expand production in Europe at lower cost. Several projects in Germany, France and Scandinavia have been delayed or downsized since the start of 2025.

A spokesperson for the Polish development ministry said the government remained in contact with the company and that public support agreed for the project, including a grant for a grid connection, was tied to job creation targets that could be renegotiated if timelines changed.
"""),
        "original": {
            "outlet": "valley-wire-daily",
            "url": "https://valleywiredaily.example/business/voltrena-delays-polish-battery-plant.html",
            "section": "Business",
            "headline": "Voltrena delays Polish battery plant by a year as EV demand cools",
            "byline": "By Tomasz Wrona and Petra Lind",
            "author": "Tomasz Wrona, Petra Lind",
            "published": "2025-08-28T16:05:00+05:30",
            "dateline": "WARSAW, Aug 28 (Reuters) -",
            "trailer": "(Reporting by Tomasz Wrona in Warsaw and Petra Lind in Stockholm; Editing by Keith Marlow)",
        },
        "copies": [
            {
                "outlet": "northgate-herald",
                "url": "https://www.northgate-herald.example/business/2025/08/28/battery-maker-pushes-back-polish-gigafactory.html",
                "section": "Business",
                "headline": "Battery maker pushes back Polish gigafactory",
                "byline": "By Business Desk",
                "author": "Business Desk",
                "published": "2025-08-28T12:35:00+01:00",
                "dateline": "Warsaw:",
                "quotes": "curly",
                "replace": [
                    (4, "Voltrena shares fell 6.2%", "Voltrena shares were down 6.2%"),
                    (5, "have struggled this year", "have had a difficult year"),
                ],
                "trailer": "(With Reuters inputs)",
            },
            {
                "outlet": "coastal-ledger",
                "url": "https://coastal-ledger.example/business/voltrena-slows-polish-plant-20250828.html",
                "section": "Business",
                "headline": "Voltrena slows Polish plant, citing weaker EV orders",
                "byline": "Reuters",
                "author": "Reuters",
                "published": "2025-08-28T09:15:00-04:00",
                "dateline": "WARSAW (Reuters) —",
                "quotes": "straight",
                "insert": (4, "The delay could also be felt closer to home. Brannock Materials, which processes graphite at its plant in the Ellery River industrial park, signed a letter of intent last year to supply anode material to Voltrena's Polish factory. A Brannock spokesperson said Thursday the company was \"reviewing delivery schedules\" but did not expect layoffs among its 140 employees."),
                "trailer": "(Reporting by Tomasz Wrona; Editing by Keith Marlow)",
            },
        ],
    },
    {
        "key": "wire-tennis-upset",
        "agency": "AP",
        "paragraphs": P("""
Lena Marsh had never won a main-draw match at a top-level tournament before this week. On Tuesday night she beat the third-ranked player in the world. The 21-year-old qualifier from New Zealand upset top seed Daria Kovalenko 6-4, 3-6, 7-6 (5) in the second round of the Harbourfront Open, saving two match points in a tense final set.

Marsh, ranked 142nd, broke serve twice in the opening set with a string of flat backhand winners down the line and recovered from a second-set slump after taking a medical timeout for a blister on her right hand. She trailed 5-3 in the deciding set before winning three straight games to force the tiebreaker.

"I honestly didn't look at the scoreboard for the last half hour. I just tried to hit the ball as hard as I could and hope it landed in," Marsh said. "My coach told me before the match that nobody expects anything from you, so go out and enjoy it. I think I did."

Kovalenko, who won the tournament two years ago, said she had struggled with the gusty conditions on the waterfront stadium court. "She played without fear. When someone plays like that and the wind is swirling, it is very hard to find your rhythm," she said. "It's disappointing, but I have to move on quickly."

The loss leaves the tournament without its two highest seeds after second seed Ana Lucía Prado withdrew on Monday with a wrist injury. Fourth seed Mei Tanaka advanced with a 6-2, 6-1 win over Sofia Brandt and is now the highest-ranked player left in the draw.

Marsh will face Canadian wild card Chloé Fournier in the third round on Thursday. Fournier, playing in front of a home crowd that chanted her name throughout, beat Irina Dobre of Romania 7-5, 6-4 earlier in the day.
"""),
        "original": {
            "outlet": "northgate-herald",
            "url": "https://www.northgate-herald.example/sport/2025/08/27/qualifier-marsh-stuns-top-seed.html",
            "section": "Sport",
            "headline": "Qualifier Lena Marsh stuns top seed at Harbourfront Open",
            "byline": "By Grace Lindqvist, Associated Press",
            "author": "Grace Lindqvist",
            "published": "2025-08-27T06:05:00+01:00",
            "dateline": "VANCOUVER, British Columbia (AP) —",
            "trailer": "— Associated Press",
        },
        "copies": [
            {
                "outlet": "valley-wire-daily",
                "url": "https://valleywiredaily.example/sports/tennis-qualifier-marsh-knocks-out-kovalenko.html",
                "section": "Sports",
                "headline": "Tennis: Qualifier Marsh knocks out top seed Kovalenko in Vancouver",
                "byline": "AP",
                "author": "AP",
                "published": "2025-08-27T15:45:00+05:30",
                "dateline": "Vancouver:",
                "quotes": "curly",
                "replace": [
                    (1, "Marsh, ranked 142nd,", "Marsh, the world No. 142,"),
                    (4, "withdrew on Monday with a wrist injury",
                     "pulled out on Monday with a wrist problem"),
                ],
                "trailer": "(With AP inputs)",
            },
        ],
    },
    {
        "key": "wire-typhoon-kalinaw",
        "agency": "AFP",
        "paragraphs": P("""
More than 60,000 people were moved to evacuation centres in the northern Philippines on Thursday as Typhoon Kalinaw strengthened over the Pacific, with forecasters warning of torrential rain, storm surges and landslides when it makes landfall late on Friday. Officials said the number of evacuees was expected to rise sharply overnight as the storm approached.

The national weather service said the typhoon was packing maximum sustained winds of 165 kilometres per hour and gusts of up to 205 kph as it moved west-northwest at about 20 kph. It raised its second-highest storm signal for several provinces on the east coast of Luzon, the country's main island. Forecasters said the storm could dump more than 300 millimetres of rain on some mountain areas within 24 hours.

"We are not waiting for the wind. The rain will come first, and the rain is what kills people in the mountains," said Ramon Villareal, a regional disaster official in the Cagayan Valley, where rivers were already running high after a week of monsoon downpours.

Schools and government offices were closed across much of northern Luzon, and the coast guard barred fishing boats and small passenger ferries from leaving port. Farmers rushed to harvest rice early in fields along the Cagayan River, which flooded thousands of homes during a storm two years ago. Television footage showed residents in coastal villages tying down the roofs of their houses with ropes and fishing nets.

In Manila, about 400 kilometres south of the expected landfall, authorities readied pumping stations and cleared drainage channels, warning that the typhoon's outer bands could bring heavy rain to the capital over the weekend. Dozens of domestic flights were cancelled.

The Philippines is hit by around 20 typhoons and tropical storms each year, and scientists say warming seas are making the strongest storms more intense. Relief agencies said they had pre-positioned food, water and hygiene kits in provincial warehouses.

"Every year the preparation gets better, but the storms are also getting harder to predict once they are close to land," said Ana Dizon, country coordinator for an international relief charity. "The next 48 hours will tell us whether the evacuations were early enough."

Kalinaw is expected to weaken as it crosses the mountainous north of Luzon before moving into the South China Sea on Saturday, forecasters said. Authorities warned residents not to return home until the storm signals had been lifted.
"""),
        "original": {
            "outlet": "coastal-ledger",
            "url": "https://coastal-ledger.example/world/typhoon-kalinaw-evacuations-philippines-20250828.html",
            "section": "World",
            "headline": "Tens of thousands evacuated as Typhoon Kalinaw nears northern Philippines",
            "byline": "By Agence France-Presse",
            "author": "AFP",
            "published": "2025-08-28T06:30:00-04:00",
            "dateline": "MANILA, Aug 28 (AFP) -",
            "trailer": "-- AFP",
        },
        "copies": [
            {
                "outlet": "northgate-herald",
                "url": "https://www.northgate-herald.example/news/2025/08/28/philippines-braces-for-typhoon.html",
                "section": "UK & World",
                "headline": "Philippines braces for Typhoon Kalinaw",
                "byline": "Agencies",
                "author": "Agencies",
                "published": "2025-08-28T14:10:00+01:00",
                "dateline": "Manila:",
                "quotes": "straight",
                "trim": 0.6,
                "trailer": "-- AFP",
            },
            {
                "outlet": "valley-wire-daily",
                "url": "https://valleywiredaily.example/world/typhoon-kalinaw-manila-flights-cancelled.html",
                "section": "World",
                "headline": "Typhoon Kalinaw: Manila flights cancelled, thousands moved to shelters",
                "byline": "AFP",
                "author": "AFP",
                "published": "2025-08-28T17:20:00+05:30",
                "dateline": "MANILA, Aug 28 (AFP) -",
                "quotes": "curly",
                "insert": (5, "Travel agents in Ambarpet said at least three Manila-bound group tours from the valley had been postponed. \"Families are calling every hour to ask whether they should still go. We are telling them to wait until Monday,\" said Suresh Nair of Horizon Holidays on Station Road."),
                "trailer": "(With AFP inputs)",
            },
        ],
    },
    {
        "key": "wire-airline-merger",
        "agency": "Reuters",
        "paragraphs": P("""
German regional airline Rheinair and Austria's Alpenjet have agreed to merge in an all-share deal valuing the combined group at about 950 million euros ($1.1 billion), the companies said on Wednesday, creating what they described as Europe's largest operator of short-haul turboprop and regional jet services.

Under the terms of the agreement, Rheinair shareholders will own 58% of the new company, which will be called RheinAlpen Aviation and be headquartered in Frankfurt. Alpenjet's chief executive, Clemens Aigner, will lead the combined group, while Rheinair CEO Birgit Sauer will become chair.

The two airlines together operate 94 aircraft and carried 11.5 million passengers last year, mostly on routes linking smaller German, Austrian and Swiss cities with larger hubs. They said the merger would generate annual savings of about 70 million euros by 2028, largely from joint purchasing, maintenance and crew training.

"Regional flying in Europe is under pressure from every side - fuel, airport fees, environmental taxes and rail competition. Alone, each of us would be fighting for survival. Together we can invest," Aigner told a news conference in Frankfurt.

The deal requires approval from the European Commission, whose competition officials are expected to examine overlapping routes between southern Germany and Austria. The companies said they were prepared to give up some take-off and landing slots if required and expected the deal to close in the first half of 2026.

Unions representing pilots and cabin crew at both airlines said they had not been consulted and would seek guarantees on jobs and working conditions. The companies said they had no plans for compulsory redundancies.

Shares in Rheinair rose 9% in Frankfurt trading, while Alpenjet gained 12% in Vienna. Analysts at a Frankfurt brokerage said the price looked reasonable but warned that integrating two different fleets and crew agreements would take time.
"""),
        "original": {
            "outlet": "valley-wire-daily",
            "url": "https://valleywiredaily.example/business/rheinair-alpenjet-agree-merger.html",
            "section": "Business",
            "headline": "Rheinair and Alpenjet agree merger to create Europe's largest regional carrier",
            "byline": "By Lena Hartmann and Stefan Gruber",
            "author": "Lena Hartmann, Stefan Gruber",
            "published": "2025-08-27T16:40:00+05:30",
            "dateline": "FRANKFURT, Aug 27 (Reuters) -",
            "trailer": "(Reporting by Lena Hartmann in Frankfurt and Stefan Gruber in Vienna; Editing by Susan Fenwick)",
        },
        "copies": [
            {
                "outlet": "coastal-ledger",
                "url": "https://coastal-ledger.example/business/two-european-regional-airlines-to-merge-20250827.html",
                "section": "Business",
                "headline": "Two European regional airlines to merge in $1.1 billion deal",
                "byline": "Reuters",
                "author": "Reuters",
                "published": "2025-08-27T10:05:00-04:00",
                "dateline": "FRANKFURT —",
                "quotes": "curly",
                "replace": [
                    (2, "mostly on routes linking", "mainly on routes connecting"),
                    (5, "had not been consulted", "had not been consulted in advance"),
                ],
                "trailer": "(With Reuters inputs)",
            },
        ],
    },
]


# --------------------------------------------------------------------------
# Unique (non-syndicated) stories.  Pairs sharing a topic (but not duplicates):
#   unique-ng-01 / unique-ng-02   Millbrook Road bus lane (vote, then traders' reaction)
#   unique-cl-01 / unique-cl-02   Harbor algae bloom (closure, then falling toxin levels)
#   unique-vwd-01 / unique-ng-08  Meridian-2 satellite (launch preview, then in orbit)
# Each pair shares exactly one background sentence (see SHARED_SENTENCES).
# --------------------------------------------------------------------------

BUS_LANE_BACKGROUND = ("The 1.2-mile stretch of Millbrook Road between the Harbour Street roundabout "
                       "and Northgate Central station carries around 22,000 vehicles a day and has "
                       "some of the slowest bus journey times in the city.")
ALGAE_BACKGROUND = ("The bloom was first spotted on Aug. 22 by a charter boat captain who reported a "
                    "rust-colored sheen spreading across the water off Gull Point.")
SATELLITE_BACKGROUND = ("Meridian-2 is designed to image cloud, rainfall and sea-surface temperatures "
                        "every ten minutes from geostationary orbit, replacing an ageing satellite "
                        "that has been in service since 2012.")
SHARED_SENTENCES = {
    BUS_LANE_BACKGROUND: ("unique-ng-01", "unique-ng-02"),
    ALGAE_BACKGROUND: ("unique-cl-01", "unique-cl-02"),
    SATELLITE_BACKGROUND: ("unique-vwd-01", "unique-ng-08"),
}

UNIQUE_STORIES = [
    # ---------------------------------------------------------------- Northgate Herald
    {
        "key": "unique-ng-01",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/27/millbrook-road-bus-lane-trial-approved.html",
        "section": "Northgate News",
        "headline": "Council backs Millbrook Road bus lane trial despite traders' objections",
        "byline": "By Hannah Croft",
        "author": "Hannah Croft",
        "published": "2025-08-27T08:15:00+01:00",
        "paragraphs": P(f"""
Northgate City Council has approved an 18-month trial of a bus lane on Millbrook Road, one of the city's busiest commuter routes, after a late-night meeting on Tuesday at which councillors heard from more than a dozen residents and business owners.

{BUS_LANE_BACKGROUND} Transport officers told the meeting that buses on the route currently average just over seven miles per hour at peak times.

Under the plans, the inbound lane will be reserved for buses, taxis and bicycles between 7am and 10am and again between 4pm and 7pm on weekdays. On-street parking bays outside the parade of shops near Fenwick Street will be suspended during those hours, and a new loading bay will be created on a side road.

Councillor Priya Raman, cabinet member for transport, said the scheme was a test rather than a final decision. "We will measure everything - journey times, footfall, air quality, collisions - and if the numbers don't work, we will change it," she said. "But doing nothing is also a decision, and it is one that leaves thousands of bus passengers stuck in traffic every morning."

Opposition councillors argued the trial had been rushed through without a full assessment of its impact on small businesses. Councillor Graham Whitcombe said several traders had told him they feared losing passing trade. "People stop here to pick up a prescription or a newspaper on the way to work. Take away the parking and they will simply drive somewhere else," he said.

The motion passed by 31 votes to 22. The council expects to install signs and road markings in October, with enforcement cameras switched on from November after a four-week warning period.

A public consultation on the longer-term future of the route will run alongside the trial, and the council has promised to publish monthly figures on bus journey times and footfall on its website.
"""),
    },
    {
        "key": "unique-ng-02",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/28/millbrook-traders-threaten-legal-challenge.html",
        "section": "Northgate News",
        "headline": "Millbrook Road traders threaten legal challenge over bus lane",
        "byline": "By Hannah Croft",
        "author": "Hannah Croft",
        "published": "2025-08-28T09:30:00+01:00",
        "paragraphs": P(f"""
Shopkeepers on Millbrook Road have instructed solicitors to examine whether Northgate City Council followed the correct procedures before approving a trial bus lane, raising the prospect of a legal challenge before the first road markings are painted.

The Millbrook Traders' Association, which represents 27 businesses, said on Wednesday it had raised more than £6,000 from members in less than a day to pay for initial legal advice. Its chair, florist Denise Okafor, said the group had been left with "no other option".

"We have been asking for a proper conversation about this scheme since the spring, and every time we were told it was coming. Then it was voted through at eleven o'clock at night," Ms Okafor said. "We are not against buses. We are against decisions that are made about us without us."

{BUS_LANE_BACKGROUND} Under the scheme approved on Tuesday night, parking bays outside the shops will be suspended at peak times, with a new loading bay created on a side road.

Legal experts said challenges to experimental traffic orders were rarely successful but could delay schemes if councils were found to have skipped consultation steps. "The bar is high, but not impossible," said Alan Brierley, a planning lawyer who is not involved in the case. "The question will be whether the council gave people a genuine opportunity to respond before the decision was taken."

A council spokesperson said the authority was confident it had acted lawfully and pointed out that the trial itself is a form of consultation, with formal objections accepted for the first six months. Bus operator Northgate Citylink said it welcomed the decision and would add two extra morning services on the route if journey times improved.

The association plans to hold an open meeting for residents and customers at St Barnabas church hall next Tuesday evening.
"""),
    },
    {
        "key": "unique-ng-03",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/business/2025/08/27/harrow-finch-brewery-expansion.html",
        "section": "Business",
        "headline": "Harrow & Finch brewery to create 40 jobs with canal-side expansion",
        "byline": "By Daniel Mercer",
        "author": "Daniel Mercer",
        "published": "2025-08-27T11:00:00+01:00",
        "paragraphs": P("""
Independent brewer Harrow & Finch is to create 40 jobs after securing planning permission to convert a disused warehouse on the Wharfside canal basin into a second brewhouse, taproom and distribution centre.

The company, founded in a railway arch in 2014 by former schoolfriends Tom Harrow and Jess Finch, said the £3.4 million project would triple its production capacity to around 90,000 barrels a year. It currently employs 58 people at its site on Tanner's Lane.

"We've been turning down orders from supermarkets for two years because we physically couldn't brew any more beer," said Ms Finch, the company's managing director. "This building gives us room to grow without leaving the city that made us."

The expansion is being part-funded by a loan from a regional investment fund and a crowdfunding campaign that raised £650,000 from more than 1,900 customers last winter. Work on the site is due to begin in October, with brewing expected to start next summer.

The new site will include a 200-seat taproom overlooking the water and a small visitor centre where the company plans to run brewery tours. Ms Finch said the taproom would close at 11pm on weekdays, and the company had agreed to limit deliveries to daytime hours following objections from residents of nearby flats.

Local business leaders welcomed the news at a time when the hospitality sector has been hit by rising energy bills. Council planning officers noted that the listed warehouse had stood empty for eleven years and said its reuse would help revive the eastern end of the canal basin, where several other derelict buildings are awaiting new owners.
"""),
    },
    {
        "key": "unique-ng-04",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/sport/2025/08/28/rovers-comeback-league-cup.html",
        "section": "Sport",
        "headline": "Rovers come from two down to stun Ashby Vale in League Cup",
        "byline": "By Tom Saddler",
        "author": "Tom Saddler",
        "published": "2025-08-28T07:00:00+01:00",
        "paragraphs": P("""
Northgate Rovers came from two goals down to beat Ashby Vale 3-2 at Cromwell Park on Wednesday night and reach the second round of the League Cup, with substitute Kieran Doyle scoring the winner four minutes into stoppage time.

Vale, who play a division higher, were comfortable for most of the first hour. Striker Marcus Adebayo headed them in front from a corner after 17 minutes and doubled the lead just before half-time, turning neatly inside his marker and shooting low past Rovers goalkeeper Sam Pritchard.

Rovers manager Colin Reece made three changes at the break, and the switch to a back three altered the shape of the game. Winger Luca Ferrante pulled one back on 63 minutes with a curling shot from the edge of the area, and captain Joe Hartley levelled with a header from Ferrante's free kick eleven minutes later.

With extra time looming, Doyle, on the pitch for only ten minutes, ran onto a long clearance, held off two defenders and lifted the ball over the advancing goalkeeper to send the home end of a crowd of 6,412 into celebration.

It was Doyle's first goal for the club since signing from non-league Hexley United in the summer, and the 19-year-old was mobbed by team-mates before being booked for climbing on the advertising hoardings in front of the Kingsway End.

Rovers were indebted to Pritchard for keeping them in the tie before the comeback. The goalkeeper made a double save from Adebayo and Vale midfielder Dean Kirkbride midway through the second half, when a third goal would almost certainly have ended the contest.

"I said to them at half-time, you can go out of this cup quietly or you can make some noise. They made some noise," Reece said. "We've had a difficult start to the league season, so this is a night they needed, and the supporters needed it too."

Vale manager Nigel Amory was frustrated with his side's second-half performance. "We stopped doing the simple things. At this level, if you switch off for twenty minutes, you get punished," he said. The draw for the second round takes place on Thursday evening.
"""),
    },
    {
        "key": "unique-ng-05",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/28/heavy-rain-warning-weekend.html",
        "section": "Weather & Travel",
        "headline": "Heavy rain warning for weekend as remnants of Atlantic storm approach",
        "byline": "By Ellie Warrender",
        "author": "Ellie Warrender",
        "published": "2025-08-28T16:20:00+01:00",
        "paragraphs": P("""
Forecasters have issued a yellow warning for heavy rain across Northgate and the surrounding hills from Saturday morning until Sunday lunchtime, as the remnants of an Atlantic storm bring an abrupt end to the late-summer warm spell.

Between 30mm and 50mm of rain is expected widely, with up to 80mm possible on higher ground to the north of the city, according to the regional forecasting centre. Gusts of 45 to 55mph are also likely on exposed coasts and hills, and some ferry crossings may be disrupted.

"After such a dry August the ground is hard, and that means a lot of this rain will run straight off rather than soaking in," said duty forecaster Helen Cartwright. "Surface water flooding on roads is the main concern, especially in places that flooded during the thunderstorms in July."

The city council said gully-cleaning crews had been sent to known trouble spots, including the underpass at Eastgate and the low-lying streets around Kingsmead, and that sandbags would be available from the depot on Foundry Road from Friday afternoon.

Rail operators warned that speed restrictions may be imposed on the line through the Hallam valley if river levels rise quickly, as happened during a storm last October, and advised passengers to check before they travel on Sunday morning.

The regional flood team said river levels were currently low after weeks of dry weather, so widespread river flooding was unlikely, but it would keep the River Wend under close watch.

Organisers of the Northgate Food Festival, due to take place in Victoria Gardens on Saturday, said the event would go ahead but that some outdoor cookery demonstrations would move into marquees. Temperatures are expected to recover to around 21C by the middle of next week.
"""),
    },
    {
        "key": "unique-ng-06",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/science/2025/08/27/rare-beetle-found-in-quarry.html",
        "section": "Science & Tech",
        "headline": "Rare beetle found thriving in abandoned Northgate quarry",
        "byline": "By Ellie Warrender",
        "author": "Ellie Warrender",
        "published": "2025-08-27T14:45:00+01:00",
        "paragraphs": P("""
A beetle last recorded in the region more than 60 years ago has been found living in large numbers in a flooded limestone quarry on the edge of Northgate, surprising the university ecologists who stumbled across it during a routine survey.

The tiny ground beetle, less than a centimetre long and an iridescent bronze-green, was identified by PhD student Amira Haddad in pitfall traps set among the loose stones on the quarry floor at Hollins Edge. Experts at a national museum later confirmed the identification from photographs and specimens.

"I genuinely thought I'd got it wrong. I spent an evening going through the identification keys three times before I emailed my supervisor," Ms Haddad said. "Then he came out to the site the next morning and found another six in about twenty minutes."

The species depends on bare, sun-warmed ground with very little vegetation, a habitat that has become scarce as former industrial sites are redeveloped or grow over with scrub. Quarry floors, spoil heaps and old railway sidings have become important refuges for such insects, researchers say.

Surveys by the team have now found the beetle at three separate spots within the quarry, and larvae have been collected from the soil, confirming that the population is breeding rather than made up of a few stray adults.

Dr Owen Fairley, who leads the university's urban ecology group, said the discovery showed the value of places many people regarded as wasteland. "There is a tendency to tidy up old industrial land, plant a few trees and call it restoration. Sometimes the most valuable thing you can do is leave the bare ground alone," he said.

Volunteers from the trust spent last winter pulling birch and buddleia saplings out of the quarry floor, work that Dr Fairley said had almost certainly helped the beetle. "Without that, the site would have been half-covered in scrub within five years and we might never have known the beetle was here," he said.

Hollins Edge quarry closed in 1987 and is now owned by a local wildlife trust, which said it would adjust its management plan to keep areas of the quarry floor clear of scrub. The findings will be published in a regional entomology journal later this year.
"""),
    },
    {
        "key": "unique-ng-07",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/27/childrens-emergency-department-opens.html",
        "section": "Northgate News",
        "headline": "New children's emergency department opens at Northgate General",
        "byline": "By Ruth Ogilvie",
        "author": "Ruth Ogilvie",
        "published": "2025-08-27T17:30:00+01:00",
        "paragraphs": P("""
A dedicated children's emergency department has opened at Northgate General Hospital, separating young patients from the busy adult A&E for the first time since the hospital was built in the 1970s.

The £9.8 million unit has 14 treatment cubicles, two resuscitation bays, a sensory room for children with autism and a waiting area designed with input from pupils at a local primary school. It will be staffed around the clock by paediatric nurses and doctors.

Dr Fiona Ashworth, the consultant who led the project, said the old arrangement had been distressing for families. "A frightened four-year-old should not have to sit next to someone who has come in after a fight on a Saturday night. This gives children a calmer space and gives our staff the right equipment in one place," she said.

Around 21,000 children a year are seen in the hospital's emergency department, with numbers peaking in the winter months. Hospital managers said the new unit should also ease pressure on the adult department, where waiting times have regularly exceeded national targets.

Parents who toured the unit at an open day on Tuesday were broadly positive. "My son has asthma and we've been here more times than I can count. Having somewhere quieter, with people who only treat children, will make a huge difference," said Lauren Tait, from Kingsmead.

The adult department's former children's area, a corner of the main waiting room screened off with curtains, will be converted into extra assessment space for frail elderly patients.

The project was funded partly by a national capital programme and partly by the Northgate General Hospital Charity, which raised £1.6 million through public donations, including a sponsored walk that attracted more than 3,000 people last year.
"""),
    },
    {
        "key": "unique-ng-08",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/science/2025/08/28/meridian-2-satellite-reaches-orbit.html",
        "section": "Science & Tech",
        "headline": "Weather satellite with Northgate-built camera reaches orbit",
        "byline": "By Daniel Mercer",
        "author": "Daniel Mercer",
        "published": "2025-08-28T13:05:00+01:00",
        "paragraphs": P(f"""
A weather satellite carrying an imaging instrument designed and built in Northgate reached its planned orbit on Thursday, hours after lifting off from the Guiana Space Centre in French Guiana.

Mission controllers confirmed on Thursday morning that Meridian-2 had separated cleanly from the rocket's upper stage and deployed its solar arrays. The satellite will spend the next three weeks raising itself to its final position, about 36,000km above the equator, before testing of its instruments begins.

{SATELLITE_BACKGROUND} Its coverage area stretches from east Africa to the western Pacific.

The satellite's main camera was assembled at Kestrel Optics on the Northgate Science Park, where about 70 engineers worked on the project over six years. Staff gathered in the company canteen before dawn to watch the launch on a live stream.

"You spend years worrying about every screw and every lens coating, and then it's all over in about eight minutes," said Kestrel's chief engineer, Rachel Osei. "When the solar panels opened there was a lot of shouting and a few tears. It's a proper team achievement."

The launch had been delayed twice in July, leaving engineers at Kestrel with an anxious few weeks. The company said it had already begun work on instruments for two further satellites in the series, which are due to launch later this decade.

The first test images are expected in late October. Forecasters say faster and sharper images of developing storms should improve warnings for heavy rain and cyclones across the region the satellite watches, particularly during the monsoon season.
"""),
    },
    {
        "key": "unique-ng-09",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/28/eastfield-academy-temporary-classrooms.html",
        "section": "Northgate News",
        "headline": "Eastfield Academy pupils to start term in temporary classrooms",
        "byline": "By Ruth Ogilvie",
        "author": "Ruth Ogilvie",
        "published": "2025-08-28T18:00:00+01:00",
        "paragraphs": P("""
About 900 pupils at Eastfield Academy will begin the autumn term in temporary classrooms and at a neighbouring college after building work on the school's main block overran during the summer holidays.

Contractors had been due to finish replacing the roof and windows of the 1960s teaching block by mid-August, but the discovery of asbestos in a ceiling void in July halted work for almost three weeks while specialist removal teams were brought in.

In a letter to parents on Wednesday, headteacher Mark Ellison said Year 7 and Year 11 pupils would be taught on site in modular classrooms installed on the playing field, while Years 8 to 10 would spend the first fortnight at Northgate Sixth Form College, a ten-minute walk away. "This is not the start to the year any of us wanted, but every pupil will be in school, with their own teachers, from day one," he wrote.

Some parents expressed frustration at the late notice. "We found out four days before term starts. Arranging childcare around a different drop-off time is not easy when you work shifts," said one mother of two pupils, who asked not to be named.

The local authority said it would provide extra buses between the academy and the college at the start and end of each day, and that pupils entitled to free school meals would continue to receive them at the college site.

The academy trust said it expected the main block to reopen by the October half-term and that there had been no risk to pupils or staff from the asbestos, which had been sealed and removed under controlled conditions. Mr Ellison said parents would receive weekly updates on the building work.
"""),
    },
    {
        "key": "unique-ng-10",
        "outlet": "northgate-herald",
        "url": "https://www.northgate-herald.example/news/2025/08/27/northgate-fringe-record-ticket-sales.html",
        "section": "Northgate News",
        "headline": "Northgate Fringe reports record ticket sales as festival closes",
        "byline": "By Hannah Croft",
        "author": "Hannah Croft",
        "published": "2025-08-27T19:15:00+01:00",
        "paragraphs": P("""
The Northgate Fringe has sold more tickets than in any year since it began, organisers said on Wednesday, as the ten-day festival of theatre, comedy and music drew to a close.

Around 48,000 tickets were sold for 312 shows across 26 venues, an increase of 14 per cent on last year. Free outdoor events in the Market Square and along the canal towpath attracted an estimated further 30,000 visitors, many of them families.

Festival director Sian Pryce said a decision to cap ticket prices at £12 for most shows had brought in younger audiences. "We had students, families, pensioners, people who had never been to a fringe show in their lives. That mix is what a festival like this should feel like," she said.

Venue owners also reported a strong fortnight. The Lamplighter pub, which hosted a comedy programme in its upstairs room, said bar takings were roughly double those of a normal August, and two cafes on Bridge Street stayed open late for the first time.

For the first time, the festival also ran a programme of relaxed performances for people with autism, dementia or anxiety, with house lights left up and audiences free to come and go. All 18 of those shows sold out, and organisers said they would double the number next year.

Not everything went smoothly. A power cut on the opening Saturday forced three venues on Cooper Street to cancel evening shows, and some residents near the Market Square complained about late-night noise from the outdoor stage, which the council said it would discuss with organisers.

Organisers said they would review the festival's finances over the autumn but hoped to keep the price cap in place next year, when the event marks its 20th edition.
"""),
    },
    # ---------------------------------------------------------------- Coastal Ledger
    {
        "key": "unique-cl-01",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/local/algae-bloom-closes-three-beaches-20250827.html",
        "section": "Local",
        "headline": "Algae bloom closes three Port Ellery beaches before Labor Day weekend",
        "byline": "By Megan Doherty",
        "author": "Megan Doherty",
        "published": "2025-08-27T06:45:00-04:00",
        "quotes": "curly",
        "paragraphs": P(f"""
Three public beaches in Port Ellery were closed to swimmers Tuesday after state environmental officials confirmed a harmful algae bloom in the outer harbor, just days before what is traditionally one of the busiest weekends of the summer.

Gull Point, Sandy Hollow and Marsh Street beaches will remain closed until water samples show toxin levels below state safety limits, the county health department said. Red warning flags went up at midday, and lifeguards were reassigned to patrol the shoreline and turn away swimmers.

{ALGAE_BACKGROUND} Samples taken over the weekend found elevated levels of a toxin that can cause skin irritation, stomach illness and, in rare cases, more serious health effects in people and pets.

"We understand the timing could not be worse for families and for businesses," said county health director Dr. Lorraine Beaumont. "But the guidance is very clear. Until the numbers come down, nobody should be in that water, and that includes dogs."

Marine scientists said warm water temperatures, calm winds and runoff from heavy rain earlier this month had likely combined to fuel the bloom. Shellfish harvesting in the affected area has also been suspended as a precaution.

Businesses near the beaches said they were bracing for a difficult weekend. "Labor Day is our Christmas," said Tony Carvalho, who runs a snack bar and kayak rental shack at Sandy Hollow. "If the beach is closed, people go somewhere else, and they don't come back until next year."

The health department will test the water daily and post results on its website. Beaches in the inner harbor and on the north shore remain open.
"""),
    },
    {
        "key": "unique-cl-02",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/local/harbor-toxin-levels-falling-20250828.html",
        "section": "Local",
        "headline": "Toxin levels falling in harbor, but beaches stay closed for now",
        "byline": "By Megan Doherty",
        "author": "Megan Doherty",
        "published": "2025-08-28T07:10:00-04:00",
        "quotes": "curly",
        "paragraphs": P(f"""
Toxin levels in Port Ellery's outer harbor have fallen sharply over the past 24 hours, county health officials said Wednesday, raising hopes that at least one of three closed beaches could reopen in time for the holiday weekend.

Samples collected Wednesday morning at Sandy Hollow showed toxin concentrations at roughly a third of Monday's peak, though still above the level at which the state allows swimming. Readings at Gull Point and Marsh Street were lower but remained over the limit.

"The trend is going the right way, and that's encouraging," said Dr. Lorraine Beaumont, the county health director. "What I can't promise is a date. We need two consecutive clean results before we lift a closure, and the water doesn't care about the calendar."

{ALGAE_BACKGROUND} Scientists at the Ellery Bay Marine Laboratory said a shift to cooler northeasterly winds on Tuesday night appeared to be breaking up the densest patches.

Lab director Dr. Hannah Voss said satellite images showed the bloom covering about half the area it did at the weekend. "These events usually end the way they start, with a change in the weather," she said. "A couple of breezy, cooler days can make a big difference."

Shellfish beds will stay closed longer. State rules require toxin levels in clams and oysters to test clean for at least a week, meaning commercial harvesting is unlikely to resume before mid-September.

Meanwhile, the town's recreation department said it would run free shuttle buses on Saturday and Sunday from the downtown parking garage to Pine Ridge Beach on the north shore, which is unaffected.
"""),
    },
    {
        "key": "unique-cl-03",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/business/lobster-prices-climb-as-catch-falls-20250827.html",
        "section": "Business",
        "headline": "Lobster prices climb as catch falls for third straight summer",
        "byline": "By Paul Iannucci",
        "author": "Paul Iannucci",
        "published": "2025-08-27T12:30:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
Dock prices for lobster in Port Ellery have climbed to their highest level in five years as landings fall for a third consecutive summer, squeezing restaurants and seafood shacks at the peak of the tourist season.

Boats landing at the town pier were paid an average of $7.85 a pound last week, up from $5.90 at the same time last year, according to figures from the Ellery Fishermen's Cooperative. The cooperative said members' combined catch since June was down about 22% compared with the same period in 2024.

"Guys are hauling the same number of traps and coming home with half-empty crates," said cooperative manager Dave Pelletier, who has fished out of Port Ellery for 31 years. "The price is good, but the price is good because there's nothing out there."

Scientists have linked declining catches in southern parts of the lobster's range to warming water, which pushes the animals toward deeper, cooler areas farther offshore. Fishermen with smaller boats, unable to travel as far, have been hit hardest.

Restaurants have responded by raising prices or trimming portions. The Anchor Grill on Water Street now charges $38 for a lobster roll, up from $29 last summer. Owner Maria Delgado said the restaurant had also added more haddock and scallop dishes to its menu. "People come here for lobster, so we keep it on. But we can't pretend the numbers work like they used to," she said.

Wholesale buyers say the shortage has also been felt further up the supply chain. Tom Reardon, who runs a seafood distribution business on the town pier, said he had been forced to buy lobster from Canadian suppliers for the first time to keep restaurant customers stocked. "Three years ago I was selling lobster out of this harbor to half the East Coast. Now I'm bringing it in by truck," he said.

Some fishermen are hanging up their traps early. Pelletier said at least four boats in the cooperative had stopped fishing for the season in August, two months earlier than usual, because fuel and bait costs were eating up what little they earned.

The cooperative is seeking state funding to help members diversify into oyster and kelp farming, a shift several neighboring harbors have already begun. A decision on grant applications is expected in November.
"""),
    },
    {
        "key": "unique-cl-04",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/politics/county-budget-tax-increase-approved-20250828.html",
        "section": "Politics",
        "headline": "County commissioners approve budget with 3% tax increase",
        "byline": "By Luke Fenner",
        "author": "Luke Fenner",
        "published": "2025-08-28T06:20:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
The Ellery County Board of Commissioners voted 4-1 on Wednesday night to approve a $214 million budget for the coming fiscal year, including a 3% property tax increase that officials said was needed to cover rising costs for emergency services and road repairs.

The budget adds 12 paramedic positions and funds a new ambulance station in the fast-growing western part of the county, where response times have lengthened as new housing developments filled in former farmland. It also sets aside $8.6 million for resurfacing rural roads damaged during last winter's storms.

Commission chair Beverly Tran said the board had cut more than $5 million from department requests before settling on the increase. "Nobody up here likes raising taxes. But when someone calls 911, they expect the ambulance to come, and right now it is taking too long in too many places," she said.

Commissioner Ray Dunleavy cast the only vote against, arguing the county should have drawn down more of its reserve fund before asking homeowners to pay more. For a home assessed at $350,000, the increase will add about $96 a year to the county portion of the tax bill.

The largest single increase goes to the sheriff's office, whose budget rises 6% to cover a new contract with deputies that includes raises over three years. Spending on parks and libraries was held flat.

County Administrator Doug Reyes said the county had also applied for a state grant to cover part of the cost of the new ambulance station, which would reduce the amount needed from local taxes next year if approved.

About 40 residents attended the meeting, several of whom spoke against the increase during public comment. The new budget takes effect Oct. 1.
"""),
    },
    {
        "key": "unique-cl-05",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/sports/whitlock-leads-bayside-regatta-20250828.html",
        "section": "Sports",
        "headline": "Port Ellery sailor takes lead at Bayside Regatta after stormy second day",
        "byline": "By Keisha Randall",
        "author": "Keisha Randall",
        "published": "2025-08-28T08:00:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
Local sailor Jenna Whitlock moved into first place at the Bayside Regatta on Wednesday, winning two of three races on a blustery day that saw several boats capsize and one race abandoned.

Whitlock, 24, who learned to sail in the Port Ellery Yacht Club's youth program, leads the 38-boat single-handed dinghy fleet by four points heading into Thursday's final day. Defending champion Carlos Ibarra of Miami is second after a capsize in the opening race cost him several places.

Winds gusting to 25 knots forced race officers to shorten the second race and abandon the third midway through, after rescue boats were stretched by a string of capsizes near the leeward mark. No sailors were injured.

"It was survival out there for part of the afternoon. You just try to keep the boat upright and stay out of trouble," Whitlock said after coming ashore. "Knowing this water helps. I've been out in this kind of breeze here since I was 12."

Ibarra, a former college champion who has won the event three times, said he was not conceding anything. "Four points is nothing in this fleet. One good race and one bad race and it's a different regatta," he said.

In the two-person keelboat division, the Port Ellery crew of brothers Sam and Eli Prescott sit third, two points behind a team from Newport. Results for all classes are posted on the yacht club's noticeboard and website after each race.

Forecasters expect lighter winds Thursday, which could favor lighter sailors. Three races are scheduled, with the first warning signal at 11 a.m. The regatta, now in its 46th year, draws competitors from across the East Coast and Canada.
"""),
    },
    {
        "key": "unique-cl-06",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/weather/tropical-storm-odalys-rough-surf-20250827.html",
        "section": "Weather",
        "headline": "Tropical Storm Odalys to stay offshore but bring dangerous surf",
        "byline": "By Luke Fenner",
        "author": "Luke Fenner",
        "published": "2025-08-27T16:15:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
A tropical storm churning in the Atlantic is expected to pass well east of the coast over the weekend, but forecasters warned Wednesday that it will still bring dangerous rip currents and high surf to local beaches through Labor Day.

Tropical Storm Odalys was about 600 miles southeast of Cape Hatteras on Wednesday morning with maximum sustained winds of 60 mph, moving north at 12 mph. Forecasters said it could strengthen into a hurricane by Friday as it passes over warm water but is likely to curve out to sea well before reaching New England.

Even at a distance, the storm is expected to push long-period swells toward the coast, with waves of 6 to 9 feet possible on exposed south-facing beaches by Saturday. The regional forecast office issued a high rip current risk beginning Friday afternoon.

"People look at a sunny sky and flat calm in the harbor and assume the ocean is safe. Swells from a storm hundreds of miles away can create rip currents that will pull even a strong swimmer out in seconds," said Ellery County emergency management director Frank Moretti.

Harbormaster Linda Haskell advised owners of small boats to check moorings and lines before the weekend and said the walkway on the harbor's outer breakwater would be closed if waves begin breaking over it. Surf shops, meanwhile, said they were expecting a rush of experienced surfers hoping to catch the biggest waves of the summer.

Lifeguards will remain on duty at town beaches through Monday, and the town said it would post red flags and close beaches to swimming if conditions warranted. Beaches already closed because of the algae bloom in the outer harbor will remain closed regardless of the surf.

The storm is the fourth named system of an Atlantic season that forecasters had predicted would be slightly more active than average. The peak of the season typically runs from mid-August through early October.
"""),
    },
    {
        "key": "unique-cl-07",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/science/great-white-shark-tagged-off-gull-point-20250828.html",
        "section": "Science",
        "headline": "Researchers tag season's first great white shark off Gull Point",
        "byline": "By Keisha Randall",
        "author": "Keisha Randall",
        "published": "2025-08-28T11:40:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
Researchers from the Ellery Bay Marine Laboratory tagged a 13-foot female great white shark about two miles off Gull Point on Tuesday, the first shark tagged in local waters this season and the largest the program has ever recorded.

The team attached an acoustic transmitter and a satellite tag to the shark's dorsal fin from a research boat after a spotter plane saw it feeding near a seal colony. The satellite tag will report the animal's position each time its fin breaks the surface.

"She's a big, healthy animal, probably in her late twenties, and she was completely unbothered by us," said lead scientist Dr. Marcus Bell. "Every shark we tag fills in a little more of the picture of when they arrive, where they go and how long they stay."

The procedure, carried out under a state permit, took less than ten minutes, with the animal swimming alongside the boat throughout, the lab said. The researchers have nicknamed her Halcyon, after the lab's first research vessel.

Great white sightings off the coast have increased over the past decade as seal populations have recovered. The lab's receivers, mounted on buoys along the coast, have detected tagged sharks as early as June and as late as December.

Since the program began in 2016, the lab has tagged 47 white sharks, several of which have returned to the same stretch of coast in consecutive summers.

Bell said there was no reason for alarm, noting that the shark was tagged well offshore, but he encouraged beachgoers to follow basic precautions, including avoiding swimming near seals and at dawn and dusk. Detections from tagged sharks are shared on a free public app that shows where the animals have recently been.
"""),
    },
    {
        "key": "unique-cl-08",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/local/hatch-island-ferry-winter-cuts-20250827.html",
        "section": "Local",
        "headline": "Island ferry to cut winter sailings, angering Hatch Island residents",
        "byline": "By Paul Iannucci",
        "author": "Paul Iannucci",
        "published": "2025-08-27T18:05:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
The operator of the only year-round ferry between Port Ellery and Hatch Island plans to cut winter sailings from six a day to four, a move residents say will make it harder to get to work, school and medical appointments on the mainland.

Ellery Island Ferry Co. said in a notice posted at the terminal Tuesday that the reduced schedule would run from Nov. 3 to April 5. The company blamed rising fuel and insurance costs and a decline in off-season passenger numbers, which it said had fallen by about 15% since 2019.

About 380 people live on Hatch Island year-round. Many commute to jobs in Port Ellery, and high school students take the ferry each weekday to attend classes on the mainland. Under the new schedule, the first morning departure from the island would leave at 7:15 a.m. instead of 6:20 a.m., and the last boat back would leave Port Ellery at 5:30 p.m.

"If the last boat leaves at 5:30, that's it for anyone who works a normal day shift at the hospital or in a store," said Martha Quigley, who chairs the Hatch Island Residents Association. "You're asking people to choose between their job and their home."

Company general manager Peter Lund said the ferry lost money on most winter crossings and that the cuts were needed to keep the service running at all. "We know how important this boat is to the island. The alternative to a reduced schedule is not the old schedule, it's no schedule," he said.

Islanders said the cuts would also affect deliveries. The island's only grocery store receives most of its stock on the first morning boat, and the island school relies on the ferry to bring in substitute teachers and specialists. "Everything that keeps this place running comes across on that boat," said store owner Rick Albrecht.

The ferry company received a one-time state grant of $1.2 million in 2023 to replace an engine on its older vessel, the Hatch Islander, but has never received an ongoing operating subsidy, unlike several other island services along the coast.

Ridership figures filed with the state show the ferry carried about 41,000 passengers between November and April last winter, compared with more than 160,000 during the summer months, when visitors to the island's beaches and inns fill the boats.

Some residents have suggested the company run a smaller, cheaper boat in winter rather than cutting trips. Lund said that option had been studied but that the company's insurer required two crew members and a vessel capable of handling winter seas, which ruled out the smaller boats currently available.

State Rep. Carol Menard, whose district includes the island, said she had asked the state transportation department to look at emergency funding to preserve at least one early and one late sailing. The residents association plans a public meeting at the island's community hall on Sept. 6.
"""),
    },
    {
        "key": "unique-cl-09",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/local/short-term-rental-vote-delayed-20250828.html",
        "section": "Local",
        "headline": "Town council delays vote on short-term rental limits",
        "byline": "By Megan Doherty",
        "author": "Megan Doherty",
        "published": "2025-08-28T14:50:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
The Port Ellery Town Council postponed a vote on new limits for short-term vacation rentals on Wednesday after a three-hour public hearing in which residents and property owners packed the council chambers.

The proposed ordinance would cap the number of short-term rental permits at 250 across the town, require owners to register annually and pay a $400 fee, and bar investors from holding more than two permits. About 410 properties are currently listed on major rental websites, according to a town analysis.

Supporters say the growth of vacation rentals has pushed year-round residents out of the housing market. "My daughter is a teacher at the elementary school and she cannot find an apartment in the town she grew up in," said resident Gail Thibodeau. "Every second house on my street is empty from October to May."

Property owners argued the rules would hurt families who rely on rental income and the local businesses that depend on summer visitors. Several asked the council to focus on enforcement against noisy or poorly managed properties rather than a hard cap.

Town officials said enforcement of existing noise and parking rules had been difficult because many rental owners live out of state. Under the draft ordinance, each permit holder would have to name a local contact who could respond to complaints within an hour.

The council also heard from several owners of small inns and bed-and-breakfasts, who said the unregulated rentals had taken business from licensed lodging that pays room taxes and undergoes fire inspections.

Council President Alan Brooks said the council would take up a revised draft at its Sept. 24 meeting, after the town attorney reviews proposed amendments, including an exemption for owners who rent out part of their primary home.
"""),
    },
    {
        "key": "unique-cl-10",
        "outlet": "coastal-ledger",
        "url": "https://coastal-ledger.example/business/gannet-marine-wins-ferry-contract-20250827.html",
        "section": "Business",
        "headline": "Harbor shipyard wins $48 million hybrid ferry contract",
        "byline": "By Paul Iannucci",
        "author": "Paul Iannucci",
        "published": "2025-08-27T09:30:00-04:00",
        "quotes": "curly",
        "paragraphs": P("""
Gannet Marine, the shipyard on Port Ellery's south waterfront, has won a $48 million contract to build two hybrid-electric passenger ferries for a transit agency in the Pacific Northwest, the largest order in the yard's 70-year history.

The 150-passenger vessels will run on batteries for most crossings, with diesel generators as backup. Construction is due to begin in January, with delivery of the first boat scheduled for spring 2027 and the second six months later.

Gannet Marine president Susan Kowalczyk said the company would hire about 60 additional welders, electricians and fitters over the next year, bringing its workforce to around 230. "This contract puts us on the map for a kind of shipbuilding that is going to grow a lot in the next decade," she said.

The contract follows two lean years for the yard, which laid off 35 workers in 2023 after a fishing trawler order was canceled. Kowalczyk said the company had spent much of the past 18 months retraining staff to install and test large battery systems, work that would have been unfamiliar to most of the yard's welders a few years ago.

The transit agency chose Gannet Marine from a field of five bidders, citing the yard's price and its experience building aluminum-hulled vessels, according to documents posted on the agency's website.

The yard plans to partner with Ellery Community College on a new 16-week welding certificate program, with the first class starting in October. Graduates will be guaranteed an interview at the shipyard.

Town economic development director Raj Patel said the contract would ripple through local suppliers, from steel stockholders to sandwich shops. "These are good-paying jobs, and every one of them supports a few more in the businesses around the yard," he said.
"""),
    },
    # ---------------------------------------------------------------- Valley Wire Daily
    {
        "key": "unique-vwd-01",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/science/meridian-2-weather-satellite-set-for-launch.html",
        "section": "Science",
        "headline": "Meridian-2 weather satellite set for launch, promises sharper monsoon forecasts",
        "byline": "By Ananya Pillai",
        "author": "Ananya Pillai",
        "published": "2025-08-27T11:25:00+05:30",
        "paragraphs": P(f"""
A new weather satellite that meteorologists say could significantly improve monsoon and cyclone forecasts for South Asia is scheduled to lift off early on Thursday from the Guiana Space Centre in French Guiana.

{SATELLITE_BACKGROUND} It will be operated by the Equatorial Weather Satellite Consortium, a grouping of 11 national weather agencies that share its data free of charge.

Dr. Kavita Menon, a senior scientist at the Ambarpet Regional Meteorological Centre, said the existing satellite scanned the region only every half hour and at lower resolution. "With a thunderstorm cell over the ghats, half an hour is the difference between a useful warning and a warning that arrives after the rain," she said.

The centre plans to use the new images to refine district-level rainfall alerts for the valley, where flash floods and landslides during the monsoon have claimed dozens of lives in recent years. Farmers' groups have also asked for more accurate short-range forecasts to help them time sowing and spraying.

The consortium's current satellite, launched with a design life of ten years, has developed problems with one of its scanning mirrors and has been operating in a reduced mode since last year, according to officials.

The launch was postponed twice in July because of a fault in ground equipment and unfavourable upper-level winds. Officials said weather conditions at the launch site were expected to be favourable on Thursday.

If the launch goes to plan, the satellite will take about three weeks to reach its final position and another two months of testing before its data becomes available to forecasters, officials said.
"""),
    },
    {
        "key": "unique-vwd-02",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/business/cardamom-prices-jump-after-heavy-rain.html",
        "section": "Business",
        "headline": "Cardamom prices jump 18% as heavy rain hits valley plantations",
        "byline": "By Rohit Menon",
        "author": "Rohit Menon",
        "published": "2025-08-27T09:10:00+05:30",
        "paragraphs": P("""
Cardamom prices at the Sonagiri spice auction rose nearly 18 per cent this week as growers reported crop damage from weeks of heavy rain, pushing the average price above Rs 2,600 per kg for the first time this season.

Around 74,000 kg of the spice was offered at Tuesday's auction, about a fifth less than in the same week last year, according to figures from the auction centre. The highest bid for premium bold-grade capsules reached Rs 3,140 per kg.

Growers in the upper reaches of the valley said persistent rain and cloud cover in July and August had caused flowers to rot and encouraged fungal disease. "We have lost almost a third of the second picking. The plants are healthy but the flowers simply did not set," said Joseph Varghese, who farms 12 acres near Kumbalam.

Cardamom prices had fallen to a three-year low in the early part of the year because of a large carryover stock, and many growers had cut spending on spraying and shade management as a result, traders said. Some planters said that decision had made plantations more vulnerable once the rain set in.

Traders said demand from spice exporters and the festival season in the coming weeks would keep prices firm. However, small growers said higher prices did not make up for the lower volume and the rising cost of labour and fertiliser.

The district agriculture office said it had begun assessing crop losses and would submit a report to the state government for possible relief under the crop damage compensation scheme. Officials said the survey would be completed within two weeks.
"""),
    },
    {
        "key": "unique-vwd-03",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/state/assembly-passes-ambar-river-water-bill.html",
        "section": "State",
        "headline": "Assembly passes Ambar river water-sharing bill amid opposition walkout",
        "byline": "By Shalini Varma",
        "author": "Shalini Varma",
        "published": "2025-08-28T08:45:00+05:30",
        "paragraphs": P("""
The state Legislative Assembly on Wednesday passed a bill setting up a new authority to manage water from the Ambar river, after opposition members walked out in protest over what they called inadequate protection for farmers in downstream districts.

The Ambar River Basin Management Bill creates a nine-member authority with powers to decide releases from the Sonagiri dam during the dry season, approve new irrigation schemes and settle disputes between districts. It replaces an advisory committee that critics said had no teeth.

Water Resources Minister R. Sudhakar, who introduced the bill, told the House that the authority would base decisions on scientific data rather than political pressure. "For twenty years, every dry summer has become a fight between upstream and downstream. This law gives us a referee," he said.

Opposition leader Meena Kulkarni said the bill gave the government too much control over appointments to the authority and did not guarantee a minimum share of water for the delta districts. "A referee chosen by one team is not a referee," she said before leading her party's members out of the chamber.

The bill was passed by voice vote. It must now receive the Governor's assent before it becomes law. Farmers' organisations in the downstream districts have announced a protest outside the district collectorate in Ambarpet on Monday.

The bill also requires the authority to publish daily reservoir levels and release figures online, and to hold public hearings in each basin district before finalising its annual water allocation plan. Environmental groups had pushed for a minimum ecological flow to be written into the law, but the final version leaves that decision to the authority.

Political analysts said the fight over the bill reflected growing anxiety in the delta, where groundwater levels have fallen sharply and salt water has crept further inland over the past decade. "Water is going to be the defining issue of the next election in these districts," said Prof. Harish Kamath of the Ambarpet Institute of Social Studies.

Members of the ruling party from upstream constituencies welcomed the bill, saying the authority would end years of last-minute political bargaining over dam releases that had left farmers unsure whether to plant a second crop. Several delta legislators from the ruling party, however, were absent during the vote.

The Ambar, which rises in the western hills and flows for about 340 km before reaching the sea, supplies drinking water to more than four million people and irrigates around 2.6 lakh hectares of farmland.
"""),
    },
    {
        "key": "unique-vwd-04",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/city/orange-alert-heavy-rain-hill-districts.html",
        "section": "Valley",
        "headline": "Orange alert for heavy rain in hill districts, landslide warning issued",
        "byline": "By Our Staff Reporter",
        "author": "Staff Reporter",
        "published": "2025-08-28T15:05:00+05:30",
        "paragraphs": P("""
The Regional Meteorological Centre on Thursday issued an orange alert for very heavy rainfall in Sonagiri and two other hill districts for the next 48 hours, warning of possible landslides and flash floods in low-lying areas.

Rainfall of 115 mm to 204 mm is likely in isolated places, the centre said, as a low-pressure area over the bay strengthens and monsoon winds pick up over the western hills. A yellow alert has been issued for Ambarpet city and the plains districts.

District collector Anil Deshmukh ordered schools and anganwadis in Sonagiri to remain closed on Friday and asked tourists to avoid travel on the ghat road to the Kumbalam hills until Sunday. "Our teams are on standby at eight vulnerable points on the ghat road. We are not taking any chances," he said.

Disaster response teams have been deployed at relief camps in three taluks, and residents living near steep slopes have been advised to move to safer places if heavy rain continues overnight. Fishermen have been told not to venture into the sea until Saturday.

The State Disaster Management Authority has activated its control room in Ambarpet, which can be reached on a toll-free helpline, and asked residents not to spread unverified videos and messages about dam releases and landslides on social media.

Last year, a landslide on the same ghat road blocked traffic for three days and cut off several villages in the Kumbalam hills.

The district has received 38 per cent more rain than normal since June 1, according to the centre's data. The Sonagiri dam stood at 91 per cent of capacity on Thursday morning, and officials said controlled releases could begin if inflows continued to rise.
"""),
    },
    {
        "key": "unique-vwd-05",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/sports/valley-strikers-reach-t20-final.html",
        "section": "Sports",
        "headline": "Valley Strikers crush Coastal Kings to reach T20 league final",
        "byline": "By Rohit Menon",
        "author": "Rohit Menon",
        "published": "2025-08-27T07:30:00+05:30",
        "paragraphs": P("""
Valley Strikers stormed into the final of the State Premier T20 League with a commanding eight-wicket win over Coastal Kings at the Ambarpet Cricket Ground on Tuesday night, chasing down 152 with 19 balls to spare.

Opener Rahul Iyer top-scored with an unbeaten 78 off 49 balls, hitting six fours and four sixes, and shared a 97-run stand for the second wicket with captain Faizan Qureshi, who made 41.

Earlier, Kings were put in to bat and struggled against a disciplined bowling attack on a slow pitch. Left-arm spinner Vikram Shetty took three wickets for 19 runs in his four overs, including the key wicket of Kings captain Arjun Pillai for 33.

"The plan was simple: take the pace off the ball and make them hit into the big side of the ground. Vikram executed it perfectly," Qureshi said at the post-match presentation. "Rahul played the innings of the season. We'll enjoy tonight and start thinking about the final tomorrow."

Kings coach Sunil D'Souza admitted his side had been 20 to 25 runs short. "On this surface you need 170. We lost wickets at the wrong times and never got going," he said.

Iyer's innings took his tally for the season to 486 runs, the most by any batter in the league this year, and earned him the player-of-the-match award. A crowd of about 18,000 turned up for the midweek match, the biggest of the season at the ground, with hundreds more watching on a big screen set up outside the stadium gates.

Strikers will face the winner of Thursday's second qualifier between Hill City Hawks and Riverside Royals in the final on Sunday. Tickets for the final go on sale online on Wednesday afternoon.
"""),
    },
    {
        "key": "unique-vwd-06",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/tech/fieldsense-raises-12-million.html",
        "section": "Tech",
        "headline": "Ambarpet agritech startup FieldSense raises $12 million",
        "byline": "By Ananya Pillai",
        "author": "Ananya Pillai",
        "published": "2025-08-28T11:50:00+05:30",
        "paragraphs": P("""
Ambarpet-based agritech startup FieldSense has raised $12 million in a Series A funding round to expand its soil-sensor and crop advisory service to farmers in four more states, the company said on Thursday.

The round was led by a Singapore-based venture fund, with participation from existing investors. FieldSense, founded in 2021 by former agricultural scientists Deepa Rao and Arvind Krishnan, sells low-cost sensors that measure soil moisture and nutrients and sends farmers advice on irrigation and fertiliser through a mobile app in seven languages.

"Most small farmers irrigate by habit, not by need. When they see the moisture reading on their phone, they use less water and less fertiliser, and yields often go up," said Rao, the company's chief executive. The startup says about 46,000 farmers currently use its service.

Krishnan, the company's chief technology officer, said the sensors had been redesigned this year to cost under Rs 2,000 each and to run for two seasons on a single battery. The company also offers a subscription model under which farmer producer organisations rent sensors for their members.

Agriculture department officials in the district, who ran a pilot with the startup last year on 800 acres of paddy and banana, said water use on participating farms had fallen by about a fifth.

The company plans to use the funds to double its field team, build a sensor assembly unit on the outskirts of Ambarpet and develop pest-prediction features using satellite data. It expects to employ about 280 people by the end of next year, up from 120.

Investors have grown more cautious about agritech in the past two years after several high-profile startups in the sector struggled to reach profitability. FieldSense said it expected to break even in 2027.
"""),
    },
    {
        "key": "unique-vwd-07",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/city/ambarpet-metro-line-2-trial-run.html",
        "section": "Valley",
        "headline": "Ambarpet Metro Line 2 completes first trial run",
        "byline": "By Shalini Varma",
        "author": "Shalini Varma",
        "published": "2025-08-27T18:20:00+05:30",
        "paragraphs": P("""
The first train on Ambarpet Metro's Line 2 completed a trial run on Wednesday morning on a 6.4 km elevated stretch between Railway Colony and Old Market, marking a key step towards the opening of the long-delayed corridor.

The three-coach train ran at a maximum speed of 25 kmph during the test, which checked track alignment, signalling and power supply along the route. Speeds will be gradually increased over the next few weeks.

Ambarpet Metro Rail Corporation managing director S. Lakshmi said the trial had gone smoothly. "This is the first of many tests. Safety certification has to be completed before we can open the line to passengers, and we will not cut corners on that," she said.

Line 2 will eventually run 18.2 km with 16 stations, linking the eastern industrial area with the city centre. The first section is now expected to open to passengers by March next year, about two years behind the original schedule, after delays in land acquisition and the relocation of utilities.

Traffic police said diversions on the Old Market road would continue until at least December while station entrances and foot overbridges are completed. Officials said work on the remaining underground section, which runs beneath the old city, was about 60 per cent complete.

The corporation has ordered 24 three-coach trains for the line, of which six have been delivered to the depot at Railway Colony.

Commuters along the route, where construction has narrowed roads for more than four years, welcomed the progress. "We have been living with barricades and dust for so long. Even seeing a train on the viaduct feels like something," said shopkeeper Naveen Gowda.
"""),
    },
    {
        "key": "unique-vwd-08",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/health/dengue-cases-rise-fogging-stepped-up.html",
        "section": "Valley",
        "headline": "Dengue cases double in Ambarpet; civic body steps up fogging",
        "byline": "By Our Staff Reporter",
        "author": "Staff Reporter",
        "published": "2025-08-28T20:15:00+05:30",
        "paragraphs": P("""
Ambarpet has recorded 412 dengue cases so far this month, more than double the number in August last year, prompting the municipal corporation to step up fogging and door-to-door inspections across the city.

Health officials said most cases were concentrated in the eastern and southern wards, where construction sites and water stored in open containers have provided breeding grounds for the Aedes mosquito, which spreads the virus. No deaths have been reported this month.

"The intermittent rain we have had this month is ideal for mosquito breeding. Water collects in tyres, flower pots and overhead tanks, and the mosquito needs very little of it," said city health officer Dr. Farah Siddiqui.

The corporation has deployed 180 field workers to check homes and businesses for stagnant water and has warned that owners of construction sites found with mosquito larvae will face fines of up to Rs 10,000. Fogging will be carried out in the evenings in all 64 wards on a rotating schedule.

Private hospitals in the city said they had seen a steady rise in patients with fever over the past two weeks. Doctors advised residents to seek medical attention if fever was accompanied by severe body ache, vomiting or bleeding, and to avoid self-medication with painkillers.

Last year the city recorded 1,140 dengue cases between June and October, the highest in five years. Officials said the early surge this year meant that number could be exceeded unless breeding sites were brought under control quickly.

Officials urged residents to empty and scrub water containers at least once a week and use mosquito nets and repellents, particularly during the early morning and late afternoon, when the Aedes mosquito is most active.
"""),
    },
    {
        "key": "unique-vwd-09",
        "outlet": "valley-wire-daily",
        "url": "https://valleywiredaily.example/education/valley-university-womens-hostel.html",
        "section": "Valley",
        "headline": "Valley University to build 1,200-bed hostel for women students",
        "byline": "By Ananya Pillai",
        "author": "Ananya Pillai",
        "published": "2025-08-27T20:40:00+05:30",
        "paragraphs": P("""
Valley University will build a 1,200-bed hostel for women students on its Sonagiri Road campus, Vice-Chancellor Prof. Meera Joshi announced on Wednesday, in response to a long-standing shortage of safe, affordable accommodation.

The Rs 96 crore project, funded jointly by the state government and the university, will include a dining hall, a study centre, a health room and round-the-clock security. Construction is expected to begin in January and take about two years.

At present, the university can house only about 700 of its nearly 3,400 women students on campus. Many of the rest rent rooms in private paying-guest accommodation in the surrounding neighbourhoods, where students say rents have risen sharply since the pandemic.

"I pay more than half of my scholarship for a room I share with two other girls, and it is forty minutes from the campus by bus," said Kavya S., a second-year postgraduate student in chemistry. "A hostel on campus would change everything for students from rural families."

The new building will be designed to meet green building standards, with rooftop solar panels, rainwater harvesting and a sewage treatment plant, according to the university's engineering department. The design also includes a separate block for research scholars and visiting women faculty.

Student groups have protested several times over the past three years about the lack of hostel seats, and a committee set up by the university last year had recommended at least 1,000 additional beds for women.

The university's student union welcomed the announcement but asked that fees be kept within reach of students from low-income families. Prof. Joshi said the fee structure would be finalised after consultations with students and would include concessions for scholarship holders.
"""),
    },
]


# --------------------------------------------------------------------------
# Seed page (valley-wire-daily).  SEED_TEXT is embedded verbatim so the build
# does not depend on ../shared being present.  The page reproduces the
# defect: the whole body (7 paragraphs + trailer) appears twice.
# --------------------------------------------------------------------------

SEED_TEXT = """\
Japan’s trade negotiator cancels US trip over ‘points that need to be discussed’
US-Japan: The investment package, which is expected to be a major economic cooperation effort, includes government-backed loans and guarantees aimed at US-bound investments.

- Aug 28, 2025,
- Updated Aug 28, 2025 1:11 PM IST
Japan's leading trade negotiator, Ryosei Akazawa, has cancelled his trip to the United States at the last minute, a move that would further delay crucial discussions aimed at finalising a substantial $550 billion investment package. This package, offered by Tokyo, is proposed in exchange for relief on tariffs that have been described as punitive.
Akazawa was scheduled to travel to Washington to formalise the investment terms, such as the division of returns between the US and Japan. However, according to Yoshimasa Hayashi, a spokesperson for the Japanese government, "It was found that there are points that need to be discussed at the administrative level during coordination with the American side. Therefore, the trip has been cancelled."
The investment package, which is expected to be a major economic cooperation effort, includes government-backed loans and guarantees aimed at US-bound investments. Despite previous agreements, the details of this package remain unclear. US Commerce Secretary Howard Lutnick had indicated that an announcement regarding Japan's investment was imminent.
In July, both nations agreed to reduce tariffs on Japanese imports to 15 per cent in exchange for the investment package. However, US President Donald Trump had claimed the package as "our money to invest," stating that the US would retain 90 per cent of the profits. Japanese officials, however, emphasised that decisions on investments would depend on mutual benefits.
Hayashi further noted Japanese concerns, stating, "We are strongly requesting that measures be taken to amend the presidential order concerning mutual tariffs as soon as possible, and to issue a presidential order to reduce tariffs on auto parts."
Recent economic indicators show Japan's exports have suffered the most significant monthly decrease in four years, largely due to declining shipments to the United States. Reflecting these challenges, Japan has adjusted its growth forecast for the year from 1.2 per cent to 0.7 per cent.
Despite the setback, there may be progress soon. A government source familiar with the negotiations mentioned that Akazawa might travel to Washington as early as next week, pending the resolution of outstanding issues.
(With Reuters inputs)
Japan's leading trade negotiator, Ryosei Akazawa, has cancelled his trip to the United States at the last minute, a move that would further delay crucial discussions aimed at finalising a substantial $550 billion investment package. This package, offered by Tokyo, is proposed in exchange for relief on tariffs that have been described as punitive.
Akazawa was scheduled to travel to Washington to formalise the investment terms, such as the division of returns between the US and Japan. However, according to Yoshimasa Hayashi, a spokesperson for the Japanese government, "It was found that there are points that need to be discussed at the administrative level during coordination with the American side. Therefore, the trip has been cancelled."
The investment package, which is expected to be a major economic cooperation effort, includes government-backed loans and guarantees aimed at US-bound investments. Despite previous agreements, the details of this package remain unclear. US Commerce Secretary Howard Lutnick had indicated that an announcement regarding Japan's investment was imminent.
In July, both nations agreed to reduce tariffs on Japanese imports to 15 per cent in exchange for the investment package. However, US President Donald Trump had claimed the package as "our money to invest," stating that the US would retain 90 per cent of the profits. Japanese officials, however, emphasised that decisions on investments would depend on mutual benefits.
Hayashi further noted Japanese concerns, stating, "We are strongly requesting that measures be taken to amend the presidential order concerning mutual tariffs as soon as possible, and to issue a presidential order to reduce tariffs on auto parts."
Recent economic indicators show Japan's exports have suffered the most significant monthly decrease in four years, largely due to declining shipments to the United States. Reflecting these challenges, Japan has adjusted its growth forecast for the year from 1.2 per cent to 0.7 per cent.
Despite the setback, there may be progress soon. A government source familiar with the negotiations mentioned that Akazawa might travel to Washington as early as next week, pending the resolution of outstanding issues.
(With Reuters inputs)
"""

SEED_PAGE = {
    "key": "unique-vwd-seed",
    "outlet": "valley-wire-daily",
    "url": "https://valleywiredaily.example/world/japan-trade-negotiator-cancels-us-trip.html",
    "section": "World",
    "published": "2025-08-28T13:11:00+05:30",
}


# --------------------------------------------------------------------------
# Special feed items
# --------------------------------------------------------------------------

MISSING_ITEM = {
    "outlet": "northgate-herald",
    "url": "https://www.northgate-herald.example/news/2025/08/28/reservoir-levels-fall.html",
    "headline": "Reservoir levels fall to lowest August mark in a decade",
    "summary": "Water company urges customers to save water after the driest August in ten years left reservoirs serving Northgate at 54 per cent.",
    "author": "Ellie Warrender",
    "published": "2025-08-28T11:05:00+01:00",
}

SECTION_ITEM = {
    "outlet": "coastal-ledger",
    "url": "https://coastal-ledger.example/latest/index.html",
    "headline": "Latest news: today's headlines from the Coastal Ledger",
    "summary": "The newest stories from the Coastal Ledger newsroom, updated through the day.",
    "author": "Coastal Ledger staff",
    "published": "2025-08-28T15:00:00-04:00",
}


# --------------------------------------------------------------------------
# Site furniture: boilerplate strings that must never end up in a clean body.
# --------------------------------------------------------------------------

NG_COOKIE_TEXT = ("We use cookies to improve your experience on our site. By continuing to browse "
                  "you agree to our use of cookies.")
NG_NEWSLETTER = "Sign up for the Morning Briefing newsletter"
NG_NEWSLETTER_BLURB = "The day's top stories from Northgate, delivered before breakfast."
NG_FOOTER_LINKS = ["About us", "Contact", "Privacy policy", "Terms"]
NG_COPYRIGHT = "© 2025 Northgate Herald Media Ltd. All rights reserved."

CL_NEWSLETTER = "Get the Ledger Daily in your inbox"
CL_NEWSLETTER_BLURB = "Morning headlines, tide tables and the week's events, free every weekday."
CL_SHARE = ["Share on Facebook", "Share on X", "Email"]
CL_FOOTER_LINKS = ["Corrections", "Advertise", "Careers", "Privacy"]
CL_COPYRIGHT = "© 2025 The Coastal Ledger. All rights reserved."

VWD_FOLLOW = "Follow us on Facebook and Instagram for more updates"
VWD_COMMENTS_CTA = "Join the conversation"
VWD_FOOTER_LINKS = ["About", "Advertise with us", "Grievance redressal", "Privacy policy"]
VWD_COPYRIGHT = "© 2025 Valley Wire Daily. All rights reserved."

BASE_FURNITURE = [
    # northgate-herald
    NG_COOKIE_TEXT, "Manage preferences", "Accept all",
    "Northgate News", "UK & World", "Weather & Travel", "Science & Tech",
    "Related stories", "Advertisement",
    NG_NEWSLETTER, NG_NEWSLETTER_BLURB,
    " | ".join(NG_FOOTER_LINKS), NG_COPYRIGHT,
    # coastal-ledger
    CL_NEWSLETTER, "Subscribe free", CL_NEWSLETTER_BLURB,
    "Obituaries", "Classifieds", "e-Edition",
    "Share on Facebook", "Share on X", " ".join(CL_SHARE),
    "Most read", "Also read:",
    " | ".join(CL_FOOTER_LINKS), CL_COPYRIGHT,
    # valley-wire-daily
    "Web Stories", "Lifestyle",
    VWD_FOLLOW, VWD_COMMENTS_CTA, "Trending now",
    " | ".join(VWD_FOOTER_LINKS), VWD_COPYRIGHT,
]


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

def curly_quotes(text: str) -> str:
    """Convert straight quotes to typographic ones (newsroom house style)."""
    out = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if ch == '"':
            out.append("\u201c" if (prev.isspace() or prev in "([{\u2014-") else "\u201d")
        elif ch == "'":
            if (prev.isspace() or prev in '([{"\u201c') and nxt.isalnum():
                out.append("\u2018")
            else:
                out.append("\u2019")
        else:
            out.append(ch)
    return "".join(out)


def word_count(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def teaser(text: str, words: int = 28) -> str:
    parts = text.split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + "\u2026"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def url_to_relpath(url: str) -> str:
    """https://host/a/b.html  ->  <outlet folder>/a/b.html (outlet resolved by host)."""
    for outlet, info in OUTLETS.items():
        if url.startswith(info["site"]):
            return f"{outlet}/{url[len(info['site']):]}"
    raise ValueError(url)


def stable_int(s: str, mod: int) -> int:
    return zlib.crc32(s.encode("utf-8")) % mod


MONTHS_AP = {8: "Aug."}


def human_date(outlet: str, ts: str) -> str:
    dt = parse_ts(ts)
    tz = OUTLETS[outlet]["tzname"]
    h12 = dt.hour % 12 or 12
    if outlet == "northgate-herald":
        return f"{dt:%A} {dt.day} {dt:%B} {dt.year}, {dt:%H:%M} {tz}"
    if outlet == "coastal-ledger":
        ampm = "a.m." if dt.hour < 12 else "p.m."
        return f"{MONTHS_AP.get(dt.month, dt.strftime('%b'))} {dt.day}, {dt.year}, {h12}:{dt:%M} {ampm} {tz}"
    ampm = "AM" if dt.hour < 12 else "PM"
    return f"{dt:%b} {dt.day}, {dt.year}, {h12}:{dt:%M} {ampm} {tz}"


# --------------------------------------------------------------------------
# Page records
# --------------------------------------------------------------------------

def make_page(**kw) -> dict:
    page = {
        "kind": "article",
        "is_wire_original": False,
        "wire_agency": None,
        "dateline_line": None,   # dateline rendered as its own element (excluded from truth)
        "trailer": None,
        "byline": None,
        "author": None,
        "standfirst": None,
    }
    page.update(kw)
    return page


def wire_pages(story: dict) -> list[dict]:
    pages = []
    base = story["paragraphs"]
    orig = story["original"]
    paragraphs = list(base)
    paragraphs[0] = f"{orig['dateline']} {paragraphs[0]}"
    pages.append(make_page(
        url=orig["url"], outlet=orig["outlet"], story=story["key"], is_wire_original=True,
        wire_agency=story["agency"], title=orig["headline"], published_at=orig["published"],
        section=orig["section"], byline=orig["byline"], author=orig["author"],
        trailer=orig["trailer"], paragraphs=paragraphs, summary=teaser(base[0]),
    ))
    for cp in story["copies"]:
        paras = list(base)
        for idx, old, new in cp.get("replace", []):
            assert paras[idx].count(old) == 1, (story["key"], old)
            paras[idx] = paras[idx].replace(old, new)
        if cp.get("trim"):
            paras = paras[: round(len(paras) * cp["trim"])]
        if cp.get("insert"):
            idx, text = cp["insert"]
            paras.insert(idx, text)
        summary = teaser(paras[0])
        dateline_line = None
        if cp.get("dateline_style") == "separate":
            dateline_line = cp["dateline"]
        else:
            paras[0] = f"{cp['dateline']} {paras[0]}"
        if cp.get("quotes") == "curly":
            paras = [curly_quotes(p) for p in paras]
            summary = curly_quotes(summary)
        pages.append(make_page(
            url=cp["url"], outlet=cp["outlet"], story=story["key"], wire_agency=story["agency"],
            title=cp["headline"], published_at=cp["published"], section=cp["section"],
            byline=cp["byline"], author=cp["author"], trailer=cp["trailer"],
            dateline_line=dateline_line, paragraphs=paras, summary=summary,
        ))
    return pages


def unique_page(story: dict) -> dict:
    paras = list(story["paragraphs"])
    if story.get("quotes") == "curly":
        paras = [curly_quotes(p) for p in paras]
    return make_page(
        url=story["url"], outlet=story["outlet"], story=story["key"],
        title=story["headline"], published_at=story["published"], section=story["section"],
        byline=story["byline"], author=story["author"], paragraphs=paras,
        summary=teaser(paras[0]),
    )


def seed_page() -> dict:
    lines = SEED_TEXT.split("\n")
    assert lines[-1] == "" and len(lines) == 22, "seed text changed shape"
    title, standfirst, blank, d1, d2 = lines[:5]
    body_lines = lines[5:-1]
    assert blank == "" and len(body_lines) == 16
    first, second = body_lines[:8], body_lines[8:]
    assert first == second and first[-1] == "(With Reuters inputs)"
    return make_page(
        url=SEED_PAGE["url"], outlet=SEED_PAGE["outlet"], story=SEED_PAGE["key"],
        title=title, published_at=SEED_PAGE["published"], section=SEED_PAGE["section"],
        standfirst=standfirst, seed_datelines=[d1, d2], seed_body_lines=body_lines,
        paragraphs=first[:7], trailer=first[7], summary=standfirst, seed=True,
    )


def build_pages() -> list[dict]:
    pages = []
    for story in WIRE_STORIES:
        pages.extend(wire_pages(story))
    pages.extend(unique_page(s) for s in UNIQUE_STORIES)
    pages.append(seed_page())
    pages.append(make_page(
        kind="missing", url=MISSING_ITEM["url"], outlet=MISSING_ITEM["outlet"], story=None,
        title=MISSING_ITEM["headline"], published_at=MISSING_ITEM["published"],
        author=MISSING_ITEM["author"], paragraphs=[], summary=MISSING_ITEM["summary"],
    ))
    pages.append(make_page(
        kind="not_article", url=SECTION_ITEM["url"], outlet=SECTION_ITEM["outlet"], story=None,
        title=SECTION_ITEM["headline"], published_at=SECTION_ITEM["published"],
        author=SECTION_ITEM["author"], paragraphs=[], summary=SECTION_ITEM["summary"],
    ))
    pages.sort(key=lambda p: p["url"])
    return pages


def neighbours(page: dict, articles: list[dict], n: int) -> list[dict]:
    """Deterministic 'related' picks: the next n articles of the same outlet (by url)."""
    same = [a for a in articles if a["outlet"] == page["outlet"]]
    i = same.index(page)
    return [same[(i + k) % len(same)] for k in range(1, n + 1)]


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

def head_common(page: dict, site_name: str, extra: str = "") -> str:
    author = f'\n<meta name="author" content="{attr(page["author"])}">' if page.get("author") else ""
    return f"""<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(page['title'])} | {esc(site_name)}</title>
<meta name="description" content="{attr(page['summary'])}">{author}
<meta property="og:type" content="article">
<meta property="og:site_name" content="{attr(site_name)}">
<meta property="og:title" content="{attr(page['title'])}">
<meta property="og:description" content="{attr(page['summary'])}">
<meta property="og:url" content="{attr(page['url'])}">
<meta property="article:published_time" content="{page['published_at']}">
<meta property="article:section" content="{attr(page['section'])}">
<link rel="canonical" href="{attr(page['url'])}">{extra}
</head>"""


def body_paragraphs(page: dict, indent: str = "    ") -> list[str]:
    out = []
    if page.get("dateline_line"):
        out.append(f'{indent}<p class="dateline"><strong>{esc(page["dateline_line"])}</strong></p>')
    out.extend(f"{indent}<p>{esc(p)}</p>" for p in page["paragraphs"])
    return out


def render_northgate(page: dict, articles: list[dict]) -> str:
    o = OUTLETS["northgate-herald"]
    nav_hrefs = ["/", "/news/", "/world/", "/business/", "/politics/", "/sport/", "/weather/", "/science/"]
    nav = "\n".join(f'      <li><a href="{h}">{esc(label)}</a></li>' for h, label in zip(nav_hrefs, o["nav"]))
    related = "\n".join(
        f'      <li><a href="{attr(r["url"])}">{esc(r["title"])}</a></li>' for r in neighbours(page, articles, 4))
    body = body_paragraphs(page)
    if page.get("trailer"):
        body.append(f'    <p class="trailer"><em>{esc(page["trailer"])}</em></p>')
    body_html = "\n".join(body)
    footer_links = " | ".join(
        f'<a href="/{label.lower().replace(" ", "-")}">{esc(label)}</a>' for label in NG_FOOTER_LINKS)
    extra = '\n<link rel="stylesheet" href="/static/css/herald.min.css">'
    return f"""<!DOCTYPE html>
<html lang="en">
{head_common(page, o['name'], extra)}
<body class="article-page section-{attr(page['section'].lower().replace(' & ', '-').replace(' ', '-'))}">
<div id="cookie-consent" class="cookie-banner" role="dialog" aria-live="polite">
  <p>{esc(NG_COOKIE_TEXT)} <a href="/privacy-policy#cookies">Manage preferences</a></p>
  <button type="button" class="cookie-accept">Accept all</button>
</div>
<header class="site-header">
  <a class="logo" href="/">{esc(o['name'])}</a>
  <nav class="primary-nav" aria-label="Sections">
    <ul>
{nav}
    </ul>
  </nav>
</header>
<main id="content">
  <article class="story">
    <header class="story-header">
      <p class="kicker">{esc(page['section'])}</p>
      <h1>{esc(page['title'])}</h1>
      <div class="story-meta">
        <span class="byline">{esc(page['byline'])}</span>
        <time datetime="{page['published_at']}">{esc(human_date('northgate-herald', page['published_at']))}</time>
      </div>
    </header>
    <div class="story-text">
{body_html}
    </div>
  </article>
  <aside class="related" aria-labelledby="related-heading">
    <h2 id="related-heading">Related stories</h2>
    <ul>
{related}
    </ul>
    <div class="ad-slot" data-slot="mpu-1">Advertisement</div>
  </aside>
</main>
<footer class="site-footer">
  <section class="newsletter">
    <h3>{esc(NG_NEWSLETTER)}</h3>
    <p>{esc(NG_NEWSLETTER_BLURB)}</p>
    <form action="/newsletters/subscribe" method="post"><input type="email" name="email" placeholder="Your email address"><button type="submit">Sign up</button></form>
  </section>
  <p class="footer-links">{footer_links}</p>
  <p class="copyright">{esc(NG_COPYRIGHT)}</p>
</footer>
<script src="/static/js/herald.min.js" defer></script>
</body>
</html>
"""


def render_coastal(page: dict, articles: list[dict]) -> str:
    o = OUTLETS["coastal-ledger"]
    menu = " ".join(
        f'<a href="/{label.lower().replace(" ", "-")}/">{esc(label)}</a>' for label in o["nav"])
    picks = neighbours(page, articles, 6)
    also, most_read = picks[0], picks[1:]
    most = "\n".join(
        f'        <li><a href="{attr(r["url"])}">{esc(r["title"])}</a></li>' for r in most_read)
    body = body_paragraphs(page, indent="      ")
    also_line = (f'      <p class="also-read"><strong>Also read:</strong> '
                 f'<a href="{attr(also["url"])}">{esc(also["title"])}</a></p>')
    pos = (1 if page.get("dateline_line") else 0) + max(2, len(page["paragraphs"]) // 2)
    body.insert(pos, also_line)
    if page.get("trailer"):
        body.append(f'      <p class="story-credit">{esc(page["trailer"])}</p>')
    body_html = "\n".join(body)
    share_url = attr(page["url"])
    share = (f'<a class="share-fb" href="/share?network=facebook&amp;url={share_url}">Share on Facebook</a> '
             f'<a class="share-x" href="/share?network=x&amp;url={share_url}">Share on X</a> '
             f'<a class="share-email" href="mailto:?subject={attr(page["title"])}">Email</a>')
    footer_links = " | ".join(
        f'<a href="/{label.lower()}/">{esc(label)}</a>' for label in CL_FOOTER_LINKS)
    extra = ('\n<link rel="stylesheet" href="https://coastal-ledger.example/assets/ledger.css">'
             '\n<script>window.ledgerAds = window.ledgerAds || []; ledgerAds.push({slot: "rail-top"});</script>')
    return f"""<!DOCTYPE html>
<html lang="en">
{head_common(page, o['name'], extra)}
<body>
<div id="page-wrap">
  <div class="masthead">
    <a class="brand" href="/">{esc(o['name'])}</a>
    <div class="menu">{menu}</div>
  </div>
  <div class="promo-banner newsletter-pitch">{esc(CL_NEWSLETTER)} &mdash; {esc(CL_NEWSLETTER_BLURB)} <a href="/newsletters/">Subscribe free</a></div>
  <div class="layout">
    <div class="main-col">
      <div class="headline-block">
        <div class="section-label">{esc(page['section'])}</div>
        <h1 class="headline">{esc(page['title'])}</h1>
        <div class="dek-meta"><span class="author">{esc(page['byline'])}</span> &middot; <span class="pubdate" data-ts="{page['published_at']}">{esc(human_date('coastal-ledger', page['published_at']))}</span></div>
      </div>
      <div class="share-bar top">{share}</div>
      <div class="story-body">
{body_html}
      </div>
      <div class="share-bar bottom">{share}</div>
    </div>
    <div class="sidebar">
      <h3>Most read</h3>
      <ol class="most-read">
{most}
      </ol>
    </div>
  </div>
  <div class="footer">
    <div class="footer-links">{footer_links}</div>
    <div class="footer-copy">{esc(CL_COPYRIGHT)}</div>
  </div>
</div>
</body>
</html>
"""


def render_coastal_section(page: dict, articles: list[dict]) -> str:
    o = OUTLETS["coastal-ledger"]
    menu = " ".join(
        f'<a href="/{label.lower().replace(" ", "-")}/">{esc(label)}</a>' for label in o["nav"])
    items = [a for a in articles if a["outlet"] == "coastal-ledger"]
    items = sorted(items, key=lambda a: a["published_at"], reverse=True)[:10]
    cards = "\n".join(
        f'      <li class="card"><h2 class="card-title"><a href="{attr(a["url"])}">{esc(a["title"])}</a></h2>'
        f'<div class="card-teaser">{esc(teaser(a["summary"], 14))}</div></li>'
        for a in items)
    footer_links = " | ".join(
        f'<a href="/{label.lower()}/">{esc(label)}</a>' for label in CL_FOOTER_LINKS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Latest News | {esc(o['name'])}</title>
<meta name="description" content="{attr(page['summary'])}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="{attr(o['name'])}">
<meta property="og:title" content="Latest News">
<meta property="og:url" content="{attr(page['url'])}">
<link rel="canonical" href="{attr(page['url'])}">
</head>
<body class="section-front">
<div id="page-wrap">
  <div class="masthead">
    <a class="brand" href="/">{esc(o['name'])}</a>
    <div class="menu">{menu}</div>
  </div>
  <div class="promo-banner newsletter-pitch">{esc(CL_NEWSLETTER)} &mdash; {esc(CL_NEWSLETTER_BLURB)} <a href="/newsletters/">Subscribe free</a></div>
  <div class="section-front-list">
    <h1 class="section-title">Latest News</h1>
    <ul class="cards">
{cards}
    </ul>
    <div class="pager"><a href="/latest/page/2.html">More stories</a></div>
  </div>
  <div class="footer">
    <div class="footer-links">{footer_links}</div>
    <div class="footer-copy">{esc(CL_COPYRIGHT)}</div>
  </div>
</div>
</body>
</html>
"""


def render_valley(page: dict, articles: list[dict]) -> str:
    o = OUTLETS["valley-wire-daily"]
    author = page.get("author")
    if author is None:
        ld_author = {"@type": "Organization", "name": o["name"]}
    elif author in AGENCY_AUTHORS or author == "Staff Reporter":
        ld_author = {"@type": "Organization", "name": author}
    else:
        ld_author = [{"@type": "Person", "name": n.strip()} for n in author.split(",")]
        ld_author = ld_author[0] if len(ld_author) == 1 else ld_author
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page["title"],
        "description": page["summary"],
        "datePublished": page["published_at"],
        "dateModified": page["published_at"],
        "author": ld_author,
        "publisher": {"@type": "Organization", "name": o["name"],
                      "logo": {"@type": "ImageObject", "url": o["site"] + "static/logo.png"}},
        "mainEntityOfPage": {"@type": "WebPage", "@id": page["url"]},
        "articleSection": page["section"],
    }
    ld_json = json.dumps(ld, ensure_ascii=False, indent=2).replace("</", "<\\/")
    extra = f'\n<script type="application/ld+json">\n{ld_json}\n</script>'
    nav = "\n".join(
        f'      <a href="/{label.lower().replace(" ", "-") if label != "Home" else ""}">{esc(label)}</a>'
        for label in o["nav"])
    trending = "\n".join(
        f'        <li><a href="{attr(r["url"])}">{esc(r["title"])}</a></li>' for r in neighbours(page, articles, 5))
    if page.get("seed"):
        d1, d2 = page["seed_datelines"]
        top = (f'      <h1 class="article-title">{esc(page["title"])}</h1>\n'
               f'      <p class="article-summary">{esc(page["standfirst"])}</p>\n'
               f'      <div class="date-line"><small>{esc(d1)}</small></div>\n'
               f'      <div class="date-line"><small>{esc(d2)}</small></div>')
        body_html = "\n".join(f"        <p>{esc(line)}</p>" for line in page["seed_body_lines"])
    else:
        top = (f'      <h1 class="article-title">{esc(page["title"])}</h1>\n'
               f'      <div class="article-meta"><span class="author-name">{esc(page["byline"])}</span> '
               f'<span class="pub-date">Published: {esc(human_date("valley-wire-daily", page["published_at"]))}</span></div>')
        body = body_paragraphs(page, indent="        ")
        if page.get("trailer"):
            body.append(f'        <p><i>{esc(page["trailer"])}</i></p>')
        body_html = "\n".join(body)
    comments = 3 + stable_int(page["url"], 90)
    footer_links = " | ".join(
        f'<a href="/{label.lower().replace(" ", "-")}">{esc(label)}</a>' for label in VWD_FOOTER_LINKS)
    return f"""<!DOCTYPE html>
<html lang="en">
{head_common(page, o['name'], extra)}
<body>
  <div class="topbar">
    <a class="site-logo" href="/">{esc(o['name'])}</a>
    <div class="nav-links">
{nav}
    </div>
  </div>
  <main class="container">
    <article class="news-article">
{top}
      <div class="article-content">
{body_html}
      </div>
      <p class="follow-line">{esc(VWD_FOLLOW)}</p>
      <div class="comments-widget" data-article="{attr(page['url'])}"><span class="comment-count">{comments}</span> Comments &middot; <a href="#comments">{esc(VWD_COMMENTS_CTA)}</a></div>
    </article>
    <aside class="trending-box">
      <h2>Trending now</h2>
      <ol>
{trending}
      </ol>
    </aside>
  </main>
  <footer class="site-footer">
    <div class="footer-links">{footer_links}</div>
    <div class="copyright">{esc(VWD_COPYRIGHT)}</div>
  </footer>
</body>
</html>
"""


RENDERERS = {
    "northgate-herald": render_northgate,
    "coastal-ledger": render_coastal,
    "valley-wire-daily": render_valley,
}


# --------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------

def render_rss(outlet: str, items: list[dict]) -> str:
    o = OUTLETS[outlet]
    items = sorted(items, key=lambda p: (parse_ts(p["published_at"]), p["url"]), reverse=True)
    last = max(parse_ts(p["published_at"]) for p in items)
    entries = []
    for p in items:
        creator = f"\n      <dc:creator>{xml_escape(p['author'])}</dc:creator>" if p.get("author") else ""
        entries.append(f"""    <item>
      <title>{xml_escape(p['title'])}</title>
      <link>{xml_escape(p['url'])}</link>
      <guid isPermaLink="true">{xml_escape(p['url'])}</guid>
      <pubDate>{format_datetime(parse_ts(p['published_at']))}</pubDate>{creator}
      <description>{xml_escape(p['summary'])}</description>
    </item>""")
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{xml_escape(o['name'])}</title>
    <link>{o['site']}</link>
    <description>{xml_escape(o['description'])}</description>
    <language>{o['language']}</language>
    <lastBuildDate>{format_datetime(last)}</lastBuildDate>
    <atom:link href="{o['site']}{o['feed_file']}" rel="self" type="application/rss+xml"/>
{body}
  </channel>
</rss>
"""


def render_atom(outlet: str, items: list[dict]) -> str:
    o = OUTLETS[outlet]
    items = sorted(items, key=lambda p: (parse_ts(p["published_at"]), p["url"]), reverse=True)
    last = max(parse_ts(p["published_at"]) for p in items)
    host = o["site"].split("/")[2]
    entries = []
    for p in items:
        ts = parse_ts(p["published_at"]).isoformat()
        path = p["url"][len(o["site"]) - 1:]
        entries.append(f"""  <entry>
    <title>{xml_escape(p['title'])}</title>
    <link rel="alternate" type="text/html" href="{xml_escape(p['url'])}"/>
    <id>tag:{host},{p['published_at'][:10]}:{xml_escape(path)}</id>
    <published>{ts}</published>
    <updated>{ts}</updated>
    <author><name>{xml_escape(p.get('author') or o['name'])}</name></author>
    <summary type="text">{xml_escape(p['summary'])}</summary>
  </entry>""")
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{o['language']}">
  <title>{xml_escape(o['name'])}</title>
  <subtitle>{xml_escape(o['description'])}</subtitle>
  <id>{o['site']}</id>
  <link rel="alternate" type="text/html" href="{o['site']}"/>
  <link rel="self" type="application/atom+xml" href="{o['site']}{o['feed_file']}"/>
  <updated>{last.isoformat()}</updated>
{body}
</feed>
"""


# --------------------------------------------------------------------------
# Truth + checks
# --------------------------------------------------------------------------

def furniture_strings(pages: list[dict], articles: list[dict]) -> list[str]:
    items = list(BASE_FURNITURE)
    for p in articles:
        if p["outlet"] == "coastal-ledger":
            also = neighbours(p, articles, 1)[0]
            items.append(f"Also read: {also['title']}")
    seen, out = set(), []
    for s in items:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def check(pages: list[dict], articles: list[dict], furniture: list[str]) -> None:
    urls = [p["url"] for p in pages]
    assert len(urls) == len(set(urls)), "duplicate urls"
    assert sum(p["kind"] == "missing" for p in pages) == 1
    assert sum(p["kind"] == "not_article" for p in pages) == 1
    for p in pages:
        dt = parse_ts(p["published_at"])
        assert dt.utcoffset() is not None
        assert dt.date().isoformat() in ("2025-08-27", "2025-08-28"), p["url"]
        assert dt.astimezone(timezone.utc).date().isoformat() in ("2025-08-27", "2025-08-28"), p["url"]
    for p in articles:
        n, w = len(p["paragraphs"]), word_count(p["paragraphs"])
        assert 4 <= n <= 10, (p["url"], n)
        if not p.get("seed"):
            assert 250 <= w <= 700, (p["url"], w)
        for para in p["paragraphs"]:
            for f in furniture:
                assert f not in para, (p["url"], f)
    # wire copies: 2-3 outlets per story, one original, headlines differ
    by_story: dict[str, list[dict]] = {}
    for p in articles:
        by_story.setdefault(p["story"], []).append(p)
    for key, ps in by_story.items():
        outlets = {p["outlet"] for p in ps}
        assert len(outlets) == len(ps), key
        if key.startswith("wire-"):
            assert 2 <= len(ps) <= 3 and sum(p["is_wire_original"] for p in ps) == 1, key
            assert len({p["title"] for p in ps}) == len(ps), key
        else:
            assert len(ps) == 1, key
    for sentence, keys in SHARED_SENTENCES.items():
        for k in keys:
            assert any(sentence in para for para in by_story[k][0]["paragraphs"]), (k, sentence)


def write_truth(pages: list[dict], articles: list[dict], furniture: list[str]) -> dict:
    fields = ["url", "outlet", "kind", "story", "is_wire_original", "wire_agency",
              "title", "published_at", "paragraphs"]
    truth = {
        "description": ("Ground truth for the fictional sample corpus in data/samples "
                        "(see README.md). One entry per feed item, sorted by url."),
        "outlets": {
            name: {"site": o["site"], "feed": f"{name}/{o['feed_file']}", "feed_format": o["feed_format"]}
            for name, o in OUTLETS.items()
        },
        "pages": [{k: p[k] for k in fields} for p in pages],
        "furniture": furniture,
        "expected": {
            "feed_items": len(pages),
            "articles": len(articles),
            "missing": sum(p["kind"] == "missing" for p in pages),
            "not_article": sum(p["kind"] == "not_article" for p in pages),
            "stories": len({p["story"] for p in articles}),
        },
    }
    (HERE / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return truth


def main() -> None:
    pages = build_pages()
    articles = [p for p in pages if p["kind"] == "article"]
    furniture = furniture_strings(pages, articles)
    check(pages, articles, furniture)

    for outlet in OUTLETS:
        shutil.rmtree(HERE / outlet, ignore_errors=True)

    for p in pages:
        if p["kind"] == "missing":
            continue
        target = HERE / url_to_relpath(p["url"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if p["kind"] == "not_article":
            text = render_coastal_section(p, articles)
        else:
            text = RENDERERS[p["outlet"]](p, articles)
        target.write_text(text, encoding="utf-8")

    for outlet, o in OUTLETS.items():
        items = [p for p in pages if p["outlet"] == outlet]
        feed = render_atom(outlet, items) if o["feed_format"] == "atom" else render_rss(outlet, items)
        (HERE / outlet / o["feed_file"]).write_text(feed, encoding="utf-8")

    truth = write_truth(pages, articles, furniture)
    print(f"wrote {len(pages) - 1} pages + 3 feeds + truth.json: {truth['expected']}")


if __name__ == "__main__":
    main()
