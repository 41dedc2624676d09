#!/usr/bin/python3
"""bench/prioritize/corpus2.py: a second feedback-linking corpus, built
differently from `aipm demo generate`.

The demo writes made-up words into item titles and sprinkles them into the
feedback, so a row about an item shares rare tokens with it. This corpus is
a helpdesk/CRM product ("Relay") with backlog items written as a PM would
write them (title plus a description of several sentences) and feedback
written in customers' own words from templates:

* every item is a feature (40 hand-written ones) applied to one product
  surface (email inbox, live chat, phone, mobile app, ...); the three items
  of one feature, and the separate export and notification features, are
  near misses of each other;
* a row names the feature either with the item's own phrases or, in about
  half of the rows, with a paraphrase that never appears in the item text
  ("mass update" for bulk edit), and names the surface in its own words,
  in the item's words, or not at all;
* typos in about 1 in 6 content words (transposition, dropped or doubled
  letter, keyboard neighbour);
* 2-3 asks in ~15% of the rows about an item, ~15% of all rows about no
  item (billing, praise, outages, in product words), ~15% of the rows about
  an item carry its item_id (as support would tag them).

Writes DIR/backlog.csv and DIR/feedback.csv in aipm's input contract and
DIR/truth.json ({"feedback": {"item_of": {id: item|null},
"items_of": {id: [items]}}, "backlog": {...}}). Deterministic for a seed
(Python's random.Random, no hashing of str).

usage: corpus2.py --seed S --out DIR [--items 120] [--rows 6000]
"""
import argparse
import csv
import datetime
import json
import os
import random
import sys

# Product surfaces: key -> (item words, customer words).
SCOPES = {
    "email": ("the email inbox", ["the inbox", "email tickets", "our support mailbox", "mails"]),
    "chat": ("live chat", ["the chat widget", "chats", "the website messenger", "chat convos"]),
    "phone": ("phone and voice calls", ["calls", "the phone line", "call recordings", "voice"]),
    "mobile": ("the iOS and Android apps", ["the app", "my phone", "the mobile version", "on the go"]),
    "kb": ("the knowledge base", ["help articles", "the help center", "our FAQ", "docs site"]),
    "crm": ("contact and company records", ["customer profiles", "contacts", "the customer card", "accounts list"]),
    "deals": ("the sales pipeline", ["deals", "opportunities", "the pipeline board", "our sales funnel"]),
    "reports": ("reports and dashboards", ["the stats page", "analytics", "charts", "metrics screens"]),
    "admin": ("the admin console", ["settings", "the admin area", "workspace config", "the setup pages"]),
    "api": ("the public API and webhooks", ["the REST endpoints", "our integration", "the developer API", "webhook calls"]),
}

# Features: key, area, title, description sentences ({s} = the surface's
# item words), item phrases (appear in the item text), customer phrases
# (never in the item text), pain sentences in customers' words, surfaces.
FEATURES = [
    ("bulk_edit", "agent-workspace", "Bulk edit",
     ["Let agents select many records in {s} and change status, assignee or tags in one action.",
      "Today every change is made one record at a time, which costs large teams hours each week."],
     ["bulk edit", "change many records in one action"],
     ["mass update", "select all and change status", "batch changes", "updating a bunch at once"],
     ["clicking through 200 tickets one by one is killing us", "we spend the whole Monday morning retagging stuff by hand"],
     "email chat crm deals"),
    ("csv_export", "data", "CSV and Excel export",
     ["Export the records shown in {s} to CSV or XLSX, respecting the current filters and columns.",
      "Finance and ops teams need the data in spreadsheets for their monthly reviews."],
     ["CSV export", "XLSX export of records"],
     ["download to a spreadsheet", "get the data out into excel", "dump everything to a file", "a download button for the list"],
     ["our finance team copies rows by hand into google sheets", "there's no way to get our own data out"],
     "email crm deals reports"),
    ("scheduled_reports", "reporting", "Scheduled report delivery",
     ["Send a saved view of {s} by email on a daily, weekly or monthly schedule.",
      "Recipients get a PDF snapshot and a link, without logging in."],
     ["scheduled report delivery", "report emailed on a schedule"],
     ["weekly summary in my inbox", "auto-send the numbers every Monday", "recurring digest for my boss", "a report that just shows up"],
     ["I screenshot the stats every friday for leadership", "my VP wants the numbers without having a login"],
     "reports deals chat phone"),
    ("notif_rules", "notifications", "Custom notification rules",
     ["Admins define which events in {s} notify which people, by email or in-app.",
      "Rules filter by priority, tag, customer tier and time of day."],
     ["custom notification rules", "notify people on selected events"],
     ["only ping me for VIP customers", "fewer alerts", "stop spamming the whole team", "choose what I get alerted about"],
     ["we mute the alerts because there are too many of them", "everyone gets pinged for everything"],
     "email chat deals admin"),
    ("push_notif", "notifications", "Mobile push notifications",
     ["Deliver push notifications for new assignments and replies from {s} to the agent's phone.",
      "Agents on call can respond within the SLA without keeping a laptop open."],
     ["push notifications", "notifications on the agent's phone"],
     ["buzz my phone when a customer writes", "a ping on my mobile", "lock screen alerts", "heads-up on my cell"],
     ["our weekend on-call person misses urgent chats", "I only find out about new conversations when I open my laptop"],
     "chat email phone deals"),
    ("sla_timers", "service-levels", "SLA timers and breach warnings",
     ["Show a countdown to the first-response and resolution targets for every item in {s}.",
      "Warn the assignee and the team lead before a breach and log breaches for reporting."],
     ["SLA timers", "breach warnings"],
     ["a clock that shows how long the customer waited", "a heads-up before we blow our response time", "response time countdown", "overdue flag"],
     ["we promised enterprise clients 1 hour replies and have no idea when we miss it", "our contract penalties come from late answers nobody noticed"],
     "email chat phone reports"),
    ("macros", "agent-workspace", "Canned responses and macros",
     ["Agents insert saved replies with placeholders into {s} and apply several actions with one click.",
      "Macros can be shared by team and versioned by admins."],
     ["canned responses", "saved replies with placeholders"],
     ["templates for answers we type 50 times a day", "quick answers", "snippets", "pre-written messages"],
     ["we keep a word doc of answers and copy paste from it", "agents type the same refund explanation over and over"],
     "email chat kb mobile"),
    ("sso", "security", "SAML single sign-on",
     ["Sign in to {s} through Okta, Azure AD or Google Workspace with SAML 2.0.",
      "Enforce SSO per workspace and provision users just in time."],
     ["SAML single sign-on", "sign in through Okta or Azure AD"],
     ["log in with our company account", "one login for everything", "our identity provider", "login via microsoft"],
     ["IT won't approve the tool without centralized login", "offboarding people means deleting accounts by hand everywhere"],
     "admin mobile api kb"),
    ("audit_log", "security", "Audit log of changes",
     ["Record who changed what and when in {s}, with old and new values.",
      "Admins can filter the log and export it for compliance reviews."],
     ["audit log", "record of who changed what"],
     ["history of edits", "a trail for the auditors", "see who deleted that", "activity history"],
     ["someone deleted a customer note and we can't tell who", "our SOC 2 auditor asked for change history and we had nothing"],
     "admin crm deals api"),
    ("dark_mode", "ui", "Dark theme",
     ["Offer a dark color theme for {s}, following the operating system setting.",
      "Contrast must meet WCAG AA in both themes."],
     ["dark theme", "dark color theme"],
     ["night mode", "black background", "easier on the eyes at night", "less bright screen"],
     ["the white screen burns my eyes on late shifts", "our night shift agents turn the brightness all the way down"],
     "mobile email chat reports"),
    ("search", "agent-workspace", "Full-text search",
     ["Search every message, note and attachment name in {s}, with filters and highlighted matches.",
      "Results should come back in under a second for a million records."],
     ["full-text search", "search every message and note"],
     ["find old conversations", "look up that thing a customer said", "a search that actually works", "search inside attachments"],
     ["searching for an order number returns nothing even though it's in the thread", "I scroll for ages to find last month's conversation"],
     "email chat kb crm"),
    ("merge_dupes", "data", "Duplicate detection and merge",
     ["Detect duplicate records in {s} by email, phone and name, and merge them while keeping history.",
      "Agents confirm each merge, and merges can be undone for 30 days."],
     ["duplicate detection", "merge duplicate records"],
     ["combine the same customer twice", "dedupe", "clean up double entries", "two profiles for one person"],
     ["the same client shows up three times with different spellings", "our list is full of doubles after the import"],
     "crm email deals chat"),
    ("csat", "feedback", "CSAT surveys",
     ["Send a one-question satisfaction survey after a conversation in {s} closes.",
      "Scores roll up per agent, team and channel."],
     ["CSAT surveys", "satisfaction survey after a conversation closes"],
     ["ask customers to rate us", "thumbs up thumbs down after a chat", "happiness rating", "a smiley rating at the end"],
     ["we have no idea if customers liked the help they got", "management asks for a satisfaction number every quarter"],
     "chat email phone reports"),
    ("routing", "automation", "Skills-based routing",
     ["Assign new work in {s} to the agent with the right language and product skills and free capacity.",
      "Round robin stays available as a fallback."],
     ["skills-based routing", "assign to the agent with the right skills"],
     ["send Spanish tickets to Maria", "auto assign by language", "the right person gets it automatically", "smarter distribution"],
     ["German customers keep landing with agents who only speak English", "a team lead hands out tickets manually all morning"],
     "email chat phone deals"),
    ("kb_suggest", "self-service", "Article suggestions",
     ["Suggest relevant articles from the help center while a customer writes in {s}.",
      "Track deflection: how many questions were answered without an agent."],
     ["article suggestions", "suggest relevant articles"],
     ["point people to the FAQ automatically", "self-serve answers", "show the help page before they write", "auto recommend docs"],
     ["half our questions are answered in the docs but nobody reads them", "customers ask how to reset a password every day"],
     "chat email kb mobile"),
    ("custom_fields", "data", "Custom fields",
     ["Admins add custom fields of type text, number, date and dropdown to {s}.",
      "Fields can be required, shown conditionally and used in filters and reports."],
     ["custom fields", "dropdown and date fields"],
     ["our own columns", "extra info boxes", "a place to store the order number", "add our own attributes"],
     ["we abuse the notes field to store the contract tier", "there's nowhere to put the customer's plan"],
     "crm deals email admin"),
    ("offline_mode", "mobile", "Offline mode",
     ["Read and draft replies in {s} without a connection and sync when the device is back online.",
      "Conflicts are shown to the agent rather than overwritten."],
     ["offline mode", "sync when back online"],
     ["work on the plane", "no signal", "when the wifi drops", "without internet"],
     ["our field techs lose their drafts when they go into a basement", "the app is useless on the train"],
     "mobile kb crm deals"),
    ("webhooks_retry", "platform", "Reliable webhooks with retries",
     ["Deliver webhook events from {s} with retries, exponential backoff and a delivery log.",
      "Failed deliveries can be replayed from the developer console."],
     ["webhook retries", "delivery log for webhooks"],
     ["events get lost", "resend the callbacks", "our endpoint was down and we missed stuff", "guaranteed delivery"],
     ["when our server blipped we lost a day of events", "we have to poll because the callbacks are flaky"],
     "api admin deals crm"),
    ("rate_limits", "platform", "Higher API rate limits",
     ["Raise the request limits for {s} on enterprise plans and return clear rate-limit headers.",
      "Offer a bulk endpoint for large syncs."],
     ["API rate limits", "rate-limit headers"],
     ["we keep getting 429s", "throttled", "too many requests errors", "our sync gets cut off"],
     ["our nightly sync fails halfway through", "the integration hits a wall after a few hundred calls"],
     "api crm reports deals"),
    ("tags_auto", "automation", "Automatic tagging",
     ["Tag incoming conversations in {s} by topic, product and sentiment with rules and a trained classifier.",
      "Agents can correct tags and the model learns from the corrections."],
     ["automatic tagging", "tag by topic and sentiment"],
     ["auto label", "categorize things for us", "figure out what the message is about", "smart labels"],
     ["nobody tags anything consistently so our reports are garbage", "agents forget to pick a category"],
     "email chat phone kb"),
    ("collision", "agent-workspace", "Agent collision detection",
     ["Show when another agent is viewing or replying to the same conversation in {s}.",
      "Prevent two replies going out to the same customer."],
     ["collision detection", "see when another agent is replying"],
     ["two of us answered the same person", "who's already on it", "double replies", "someone else is typing indicator"],
     ["customers get two different answers from two agents", "we step on each other's toes all day"],
     "email chat crm phone"),
    ("business_hours", "service-levels", "Business hours and holidays",
     ["Define business hours and holiday calendars per team for {s}.",
      "SLA clocks pause outside business hours and auto-replies say when the team is back."],
     ["business hours", "holiday calendars"],
     ["opening times", "don't count weekends", "out of office schedule", "closed on public holidays"],
     ["the SLA keeps counting over Christmas", "customers write on Sunday and expect an answer"],
     "email chat phone admin"),
    ("roles", "security", "Custom roles and permissions",
     ["Create roles with fine-grained permissions over {s}: view, edit, delete and export.",
      "Assign roles per team and review them in one place."],
     ["custom roles", "fine-grained permissions"],
     ["limit what interns can see", "read only access", "lock down who can delete", "access levels"],
     ["a contractor deleted half our macros", "everyone is an admin because there's no middle ground"],
     "admin crm deals reports"),
    ("translation", "self-service", "Automatic translation",
     ["Translate incoming messages in {s} to the agent's language and replies back to the customer's.",
      "The original text stays one click away."],
     ["automatic translation", "translate incoming messages"],
     ["multi language support", "answer in French without speaking it", "auto translate", "foreign language customers"],
     ["we paste everything into google translate", "we can't hire agents for every language"],
     "email chat kb mobile"),
    ("pipeline_stages", "sales", "Customizable pipeline stages",
     ["Let sales managers rename, add and reorder stages in {s}, with win probabilities per stage.",
      "Stage changes are timestamped for forecasting."],
     ["customizable pipeline stages", "reorder stages with win probabilities"],
     ["our own sales steps", "change the columns on the board", "rename the stages", "match our sales process"],
     ["the default stages don't fit how we sell", "we track the real status in a spreadsheet next to the tool"],
     "deals reports crm mobile"),
    ("forecasting", "sales", "Revenue forecasting",
     ["Forecast the quarter's revenue from {s} using stage probabilities and history.",
      "Managers compare commit, best case and pipeline coverage."],
     ["revenue forecasting", "forecast the quarter's revenue"],
     ["predict how much we'll close", "projected sales", "how the quarter will land", "numbers for the board"],
     ["our CRO builds the forecast in excel every week", "we always miss the quarter and never see it coming"],
     "deals reports crm api"),
    ("email_tracking", "sales", "Email open tracking",
     ["Track opens and link clicks for emails sent from {s} and show them on the timeline.",
      "Respect recipients' privacy settings and regional law."],
     ["email open tracking", "track opens and link clicks"],
     ["know if they read it", "read receipts", "see when the prospect looked at my email", "click notifications"],
     ["reps chase prospects who never even opened the mail", "I want to follow up at the right moment"],
     "deals crm email mobile"),
    ("call_transcripts", "voice", "Call transcription",
     ["Transcribe recorded calls in {s} and attach a searchable transcript and summary.",
      "Supports English, Spanish, French and German at launch."],
     ["call transcription", "searchable transcript"],
     ["written version of calls", "speech to text", "notes from the call automatically", "turn recordings into text"],
     ["agents spend ten minutes writing up every call", "we can't search what was said on the phone"],
     "phone deals crm reports"),
    ("ivr", "voice", "IVR phone menus",
     ["Build phone menus for {s} with a visual editor: press 1 for billing, 2 for support.",
      "Route callers by menu choice, language and caller ID."],
     ["IVR phone menus", "visual editor for phone menus"],
     ["press 1 for sales", "a phone tree", "automated attendant", "callers picking a department"],
     ["all calls ring everyone at once", "billing calls land with the tech team"],
     "phone admin chat mobile"),
    ("chatbot", "self-service", "Answer bot",
     ["A bot answers common questions in {s} from the knowledge base and hands over to an agent with context.",
      "Admins review the bot's answers and set the topics it may handle."],
     ["answer bot", "hand over to an agent with context"],
     ["an AI assistant", "automatic replies to simple questions", "a robot for first-line questions", "gpt style answers"],
     ["agents answer where's my order fifty times a day", "we can't staff nights and weekends"],
     "chat kb email mobile"),
    ("widget_custom", "self-service", "Widget customization",
     ["Change colors, logo, position and greeting of the widget for {s}.",
      "Customization is previewed live and can differ per website."],
     ["widget customization", "colors, logo and greeting"],
     ["match our brand", "make the bubble look like our site", "change the button color", "our own branding"],
     ["the bright blue bubble clashes with our website", "marketing hates how the widget looks"],
     "chat kb mobile admin"),
    ("attachments", "agent-workspace", "Larger attachments",
     ["Raise the attachment limit in {s} from 20 MB to 100 MB and preview images, PDFs and videos inline.",
      "Large files are scanned for malware before agents open them."],
     ["larger attachments", "inline previews of files"],
     ["send big files", "upload videos", "screen recordings are too large", "file size limit"],
     ["customers can't send us the screen recording of the bug", "we have to ask for files over wetransfer"],
     "email chat mobile crm"),
    ("timeline", "crm", "Unified customer timeline",
     ["Show every interaction with a customer across channels on one timeline in {s}.",
      "Include orders and product usage events from integrations."],
     ["unified customer timeline", "every interaction across channels"],
     ["see everything about a customer in one place", "full history of the client", "what happened before", "360 view"],
     ["I switch between five tabs to understand one customer", "we didn't know they had called twice before emailing"],
     "crm deals email phone"),
    ("sandbox", "platform", "Sandbox environment",
     ["Provide a sandbox copy of {s} with test data where admins can try changes safely.",
      "Changes can be promoted to production as a reviewed bundle."],
     ["sandbox environment", "promote changes to production"],
     ["a test account", "staging", "try things without breaking live", "a playground"],
     ["we broke routing in production while testing a rule", "there's nowhere to test workflows"],
     "admin api chat reports"),
    ("goals", "reporting", "Team goals and leaderboards",
     ["Set goals per team and agent in {s} and show progress against them.",
      "Leaderboards can be hidden for teams that do not want them."],
     ["team goals", "progress against goals"],
     ["targets for the team", "a scoreboard", "motivate the agents", "gamification"],
     ["we have no way to show the team how they're doing against target", "agents ask how they compare"],
     "reports deals phone chat"),
    ("custom_dash", "reporting", "Custom dashboards",
     ["Build dashboards over {s} from charts, tables and KPI tiles with drag and drop.",
      "Dashboards can be shared with teams and filtered by date."],
     ["custom dashboards", "charts, tables and KPI tiles"],
     ["our own charts", "a pivot view", "a wallboard for the office TV", "cross tab of the numbers"],
     ["the built-in stats don't answer any of our questions", "we export everything to Tableau to make one chart"],
     "reports deals admin phone"),
    ("gdpr", "security", "Data retention and deletion",
     ["Set retention policies for {s} and delete a person's data on request, with a certificate.",
      "Deletions cascade to attachments and backups within 30 days."],
     ["data retention policies", "delete a person's data on request"],
     ["right to be forgotten", "GDPR requests", "auto delete old stuff", "erase a customer"],
     ["our DPO handles deletion requests by hand", "we're keeping data for years and legal is nervous"],
     "admin crm email api"),
    ("mentions", "collaboration", "Internal notes and mentions",
     ["Let agents leave internal notes in {s} and mention colleagues, who get notified.",
      "Notes never reach the customer."],
     ["internal notes", "mention colleagues"],
     ["@ someone on my team", "loop in a colleague", "private comments", "ask a coworker without the customer seeing"],
     ["we ask each other questions over slack and lose the context", "I need to pull in billing without forwarding the whole thread"],
     "email chat deals crm"),
    ("integr_slack", "integrations", "Slack integration",
     ["Post updates from {s} to Slack channels and let people reply from Slack.",
      "Channel mapping is set per team by admins."],
     ["Slack integration", "post updates to channels"],
     ["get things in our slack", "reply without leaving slack", "a slack bot", "sync with our chat tool"],
     ["the team lives in slack and misses everything in the tool", "we copy urgent issues into slack by hand"],
     "email deals chat reports"),
    ("keyboard", "agent-workspace", "Keyboard shortcuts",
     ["Add keyboard shortcuts for the frequent actions in {s}: reply, assign, close, next.",
      "A cheat sheet opens with the question mark key."],
     ["keyboard shortcuts", "cheat sheet"],
     ["hotkeys", "do it without the mouse", "power user keys", "faster navigation"],
     ["our fastest agents hate reaching for the mouse", "everything takes three clicks"],
     "email chat crm deals"),
]

STOP = set("""a an the and or but if of to in on for with at by from as is are was were be been
it its this that these those we our us you your i me my they them their he she his her not no do
does did have has had can could would should will just so than then there here what when where who
how why all any some more most very too also only into out up about over again once per""".split())

OPENERS = ["", "", "", "Hi team, ", "Hello, ", "Quick one: ", "Feature request: ", "Hey! ",
           "Following up on our call, ", "From our account review: ", "Honestly, ", "FYI, "]
ASKS = [
    "we really need {feat} in {scope}.",
    "is there any way to get {feat} for {scope}?",
    "please add {feat} to {scope}.",
    "any plans for {feat} in {scope}?",
    "our agents keep asking for {feat} in {scope}.",
    "it's frustrating that there is no {feat} for {scope}.",
    "would love {feat} for {scope}.",
    "{feat} in {scope} would save us a lot of time.",
    "missing {feat} in {scope} is a dealbreaker for our team.",
    "can you prioritize {feat} for {scope}?",
]
ASKS_NOSCOPE = [
    "we really need {feat}.", "is there any way to get {feat}?", "please add {feat}.",
    "any plans for {feat}?", "would love {feat}.", "{feat} would save us a lot of time.",
    "still no {feat}?", "when is {feat} coming?",
]
PAIN_FRAMES = ["{pain}.", "{pain}, can you fix that?", "Right now {pain}.", "{pain}. Super annoying.",
               "Problem: {pain}."]
CLOSERS = ["", "", "", " Thanks!", " Thank you.", " This is blocking our rollout.",
           " We'd pay more for this.", " Cheers.", " Happy to jump on a call.",
           " Our renewal is next month.", " Let me know."]
JOINERS = [" Also, ", " And ", " Separately, ", " Oh and ", " Another thing: ", " Plus "]

NOISE = [
    "Our invoice for {month} charged us for {n} seats but we only have {m} agents, can someone check billing?",
    "How do I update the credit card on our account?",
    "Can we switch from monthly to annual billing and get the discount?",
    "Love the product, the team is so much faster since we moved from email. Keep it up!",
    "Great support from {name} today, solved our issue in minutes.",
    "The inbox was down for about an hour this morning, is there a status page?",
    "Everything was really slow around {hour}:00 today, tickets took ages to load.",
    "We got logged out several times today, is there an outage?",
    "Who is our account manager now that {name} left?",
    "Please cancel the extra {n} licenses we bought last month.",
    "Do you have a discount for nonprofits?",
    "The dashboard looks great after the redesign, nice work.",
    "Chat was unavailable for 20 minutes, customers noticed. What happened?",
    "Is the price going up next year? Need to plan our budget.",
    "Thanks for the quick fix on the export bug last week!",
    "Our trial ends Friday, can we extend it by a week?",
    "Where can I download last year's invoices for our accountant?",
    "The app crashed twice today on login, seems fine now.",
    "We're very happy with the phone setup, calls are crystal clear.",
    "Can you send me the security questionnaire and your SOC 2 report?",
    "Just wanted to say the new reports are fantastic.",
    "Our VAT number is wrong on the invoice, please correct it.",
    "Notifications were delayed by an hour yesterday, all good today.",
    "How many agents can we add on the Growth plan?",
    "The webinar on automation was really useful, thanks.",
    "Is there a referral program? We told three other companies about you.",
    "Pipeline page did not load this morning, error 502.",
    "Our admin is on leave, how do we reset her password?",
    "Renewal quote please, same number of seats as last year.",
    "Nothing specific, just that the product is solid. 9/10.",
]
NAMES = ["Priya", "Tom", "Lena", "Marco", "Aisha", "Ken", "Sofia", "Dan"]
MONTHS = ["March", "April", "May", "June", "July", "August", "September"]
SOURCES = ["zendesk", "intercom", "nps", "sales_call", "g2_review", "csm_notes"]
PM_SENTENCES = [
    "Requested by {n} accounts in the last quarter, {e} of them enterprise.",
    "Top ask in the {q} customer advisory board.",
    "Success metric: weekly active use by {p}% of agents within 60 days of launch.",
    "Out of scope for v1: migration of historical data.",
    "Competitors ship this; it came up in {n} lost deals.",
    "Acceptance: works for workspaces with up to 500 agents.",
    "Design spike done; engineering estimate pending review.",
]

KEYS = "qwertyuiop asdfghjkl zxcvbnm".split()


def neighbours(ch):
    for row in KEYS:
        i = row.find(ch)
        if i >= 0:
            return [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
    return []


def typo(rng, w):
    """One typo in a word of 4+ letters: transposition, drop, double or
    keyboard neighbour."""
    i = rng.randrange(1, len(w) - 1)
    k = rng.randrange(4)
    if k == 0:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if k == 1:
        return w[:i] + w[i + 1:]
    if k == 2:
        return w[:i] + w[i] + w[i:]
    nb = neighbours(w[i].lower())
    return w[:i] + (rng.choice(nb) if nb else w[i]) + w[i + 1:]


def add_typos(rng, text, rate=1 / 6):
    out = []
    for tok in text.split(" "):
        core = tok.strip(".,?!:;'\"()")
        if len(core) >= 4 and core.isalpha() and core.lower() not in STOP and rng.random() < rate:
            tok = tok.replace(core, typo(rng, core), 1)
        out.append(tok)
    return " ".join(out)


def make_items(rng, n_items):
    pairs = []
    for fi, f in enumerate(FEATURES):
        scopes = f[7].split()
        rng.shuffle(scopes)
        for s in scopes:
            pairs.append((fi, s))
    # three surfaces per feature first, then the fourth ones
    order = sorted(range(len(pairs)), key=lambda i: (i % 4 == 3, rng.random()))
    chosen = [pairs[i] for i in order[:n_items]]
    items = []
    base = datetime.date(2026, 1, 5)
    for k, (fi, s) in enumerate(chosen):
        key, area, title, desc, iph, cph, pains, _ = FEATURES[fi]
        sitem = SCOPES[s][0]
        n_acc = rng.randint(3, 40)
        pm = rng.choice(PM_SENTENCES).format(n=n_acc, e=rng.randint(1, min(9, n_acc)),
                                             q=rng.choice(["Q1", "Q2", "Q3"]),
                                             p=rng.choice([20, 30, 40, 50]))
        text = " ".join(d.format(s=sitem) for d in desc) + " " + pm
        status = rng.choices(["idea", "planned", "in_progress", "shipped", "dropped"],
                             [35, 30, 12, 18, 5])[0]
        created = base + datetime.timedelta(days=rng.randrange(0, 200))
        shipped = created + datetime.timedelta(days=rng.randrange(14, 90)) if status == "shipped" else None
        rice = rng.random() < 0.7
        items.append({
            "id": "RLY-%d" % (101 + k), "feature": fi, "scope": s,
            "title": "%s for %s" % (title, sitem), "description": text, "area": area,
            "effort": rng.choice([1, 2, 3, 5, 8, 13]), "status": status,
            "created_at": created.isoformat(), "shipped_at": shipped.isoformat() if shipped else "",
            "feature_key": "%s_%s" % (key, s) if status == "shipped" else "",
            "reach": str(rng.randint(50, 2000)) if rice else "",
            "impact": str(rng.choice([0.25, 0.5, 1, 2, 3])) if rice else "",
            "confidence": str(rng.choice([0.5, 0.8, 1])) if rice else "",
            "weight": rng.paretovariate(1.2),
        })
    return items


def ask_text(rng, it):
    """One ask about item `it` in a customer's words: (text, how it was
    written), the second as [kind, scope, phrase] with kind "pain" (a pain
    sentence), "cust" (the feature in customers' words) or "item" (in the
    item's words), scope "none" (not named), "cust" or "item", and phrase
    the pain sentence or the words used for the feature."""
    _, _, _, _, iph, cph, pains, _ = FEATURES[it["feature"]]
    s_item, s_cust = SCOPES[it["scope"]]
    r = rng.random()
    if r < 0.1:  # a pain sentence: customers' words only
        pain = rng.choice(pains)
        how = ["pain", "none", pain]
        if rng.random() < 0.6:
            pain += " in " + rng.choice(s_cust)
            how[1] = "cust"
        return rng.choice(PAIN_FRAMES).format(pain=pain), how
    # customers' words for the feature in about half of all asks
    cust = rng.random() < 0.45
    feat = rng.choice(cph) if cust else rng.choice(iph)
    kind = "cust" if cust else "item"
    u = rng.random()
    if u < 0.15:
        return rng.choice(ASKS_NOSCOPE).format(feat=feat), [kind, "none", feat]
    scope = rng.choice(s_cust) if u < 0.55 else s_item
    return (rng.choice(ASKS).format(feat=feat, scope=scope),
            [kind, "cust" if u < 0.55 else "item", feat])


def cap(s):
    return s[:1].upper() + s[1:]


def main():
    ap = argparse.ArgumentParser(description="second feedback-linking corpus (helpdesk/CRM)")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--items", type=int, default=120)
    ap.add_argument("--rows", type=int, default=6000)
    a = ap.parse_args()
    n_max = sum(len(f[7].split()) for f in FEATURES)
    if not 2 <= a.items <= n_max:
        sys.exit("corpus2.py: --items must be between 2 and %d" % n_max)
    if a.rows < 1:
        sys.exit("corpus2.py: --rows must be positive")
    rng = random.Random(a.seed)
    items = make_items(rng, a.items)
    weights = [it["weight"] for it in items]
    by_id = {it["id"]: it for it in items}
    rows, item_of, items_of, asks = [], {}, {}, {}
    start = datetime.datetime(2026, 3, 1, 8, 0, 0)
    stamps = sorted(rng.randrange(0, 180 * 86400) for _ in range(a.rows))
    for n in range(a.rows):
        fid = "T-%05d" % (n + 1)
        if rng.random() < 0.15:
            text = rng.choice(NOISE).format(month=rng.choice(MONTHS), n=rng.randint(5, 40),
                                            m=rng.randint(2, 30), name=rng.choice(NAMES),
                                            hour=rng.randint(8, 18))
            linked = []
        else:
            k = 1 + (rng.random() < 0.12) + (rng.random() < 0.04)  # 2-3 asks: 15.5%
            linked = []
            while len(linked) < k:
                it = rng.choices(items, weights)[0]
                if it["id"] not in linked:
                    linked.append(it["id"])
            written = [ask_text(rng, by_id[i]) for i in linked]
            parts = [p for p, _ in written]
            asks[fid] = [[i] + how for i, (_, how) in zip(linked, written)]
            text = rng.choice(OPENERS) + parts[0]
            for p in parts[1:]:
                text += rng.choice(JOINERS) + p
            text = cap(text.strip()) + rng.choice(CLOSERS)
        text = add_typos(rng, text)
        src = rng.choice(SOURCES)
        tagged = linked and rng.random() < 0.15
        ts = start + datetime.timedelta(seconds=stamps[n])
        acct = rng.randrange(1, 400)
        rows.append({
            "id": fid, "created_at": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": src,
            "user_id": "u-%d-%d" % (acct, rng.randrange(1, 9)), "account_id": "acct-%d" % acct,
            "score": str(rng.randint(0, 10)) if src == "nps" else "",
            "item_id": linked[0] if tagged else "", "text": text,
        })
        item_of[fid] = linked[0] if linked else None
        items_of[fid] = linked
    os.makedirs(a.out, exist_ok=True)
    bcols = ["id", "title", "description", "area", "effort", "status", "created_at",
             "shipped_at", "feature_key", "reach", "impact", "confidence"]
    with open(os.path.join(a.out, "backlog.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(bcols)
        for it in items:
            w.writerow([it[c] for c in bcols])
    fcols = ["id", "created_at", "source", "user_id", "account_id", "score", "item_id", "text"]
    with open(os.path.join(a.out, "feedback.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(fcols)
        for r in rows:
            w.writerow([r[c] for c in fcols])
    truth = {
        "generator": {"name": "bench/prioritize/corpus2.py", "seed": a.seed,
                      "items": a.items, "rows": a.rows},
        "backlog": {it["id"]: {"feature": FEATURES[it["feature"]][0], "scope": it["scope"],
                               "weight": round(it["weight"], 6)} for it in items},
        "feedback": {"rows": a.rows, "item_of": item_of, "items_of": items_of,
                     "asks": asks},
    }
    with open(os.path.join(a.out, "truth.json"), "w") as fh:
        json.dump(truth, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
