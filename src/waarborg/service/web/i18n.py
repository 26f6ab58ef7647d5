"""The pages' words in Dutch (the default) and English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")

TEXT: dict[str, dict[Lang, str]] = {
    "skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
    "nav": {"nl": "Hoofdmenu", "en": "Main menu"},
    "queue": {"nl": "Werkvoorraad", "en": "Queue"},
    "oversight": {"nl": "Toezicht", "en": "Oversight"},
    "processes": {"nl": "Processen", "en": "Processes"},
    "auditlog": {"nl": "Logboek", "en": "Audit log"},
    "logout": {"nl": "Uitloggen", "en": "Log out"},
    "login": {"nl": "Inloggen", "en": "Log in"},
    "username": {"nl": "Gebruikersnaam", "en": "User name"},
    "password": {"nl": "Wachtwoord", "en": "Password"},
    "login_wrong": {
        "nl": "Onjuiste gebruikersnaam of wachtwoord.",
        "en": "Wrong user name or password.",
    },
    "login_wait": {
        "nl": "Te veel mislukte pogingen om in te loggen: probeer het over {seconds} s opnieuw.",
        "en": "Too many failed logins: try again in {seconds} s.",
    },
    "password_too_short": {
        "nl": "Een wachtwoord heeft minstens {n} tekens.",
        "en": "A password needs at least {n} characters.",
    },
    "password_too_long": {
        "nl": "Een wachtwoord heeft hoogstens {n} tekens.",
        "en": "A password has at most {n} characters.",
    },
    "password_contains_name": {
        "nl": "Een wachtwoord mag de gebruikersnaam niet bevatten.",
        "en": "A password must not contain the user name.",
    },
    "password_guessable": {
        "nl": "Dit wachtwoord komt veel voor of is makkelijk te raden. Kies een langere zin "
        "van woorden die niets met elkaar te maken hebben.",
        "en": "This password is common or easily guessed. Choose a longer phrase of "
        "unrelated words.",
    },
    "logged_in_as": {"nl": "Ingelogd als", "en": "Logged in as"},
    "language": {"nl": "Taal", "en": "Language"},
    "login_intro": {
        "nl": "Log in om zaken te beoordelen. Elke keer dat u persoonsgegevens inziet, "
        "wordt dat vastgelegd.",
        "en": "Log in to assess cases. Every time you view personal data, that is recorded.",
    },
    "queue_intro": {
        "nl": "Zaken van uw team zonder besluit, oudste eerst. De score ziet u pas als u "
        "de zaak opent; dat moment wordt vastgelegd.",
        "en": "Your team's cases without a decision, oldest first. You see the score only "
        "when you open the case; that moment is recorded.",
    },
    "queue_empty": {"nl": "Er zijn geen zaken zonder besluit.", "en": "No undecided cases."},
    "case": {"nl": "Zaak", "en": "Case"},
    "process": {"nl": "Proces", "en": "Process"},
    "subject": {"nl": "Betrokkene (pseudoniem)", "en": "Person (pseudonym)"},
    "created": {"nl": "Aangemaakt", "en": "Created"},
    "open": {"nl": "Openen", "en": "Open"},
    "total": {"nl": "Totaal", "en": "Total"},
    "score_h": {"nl": "Wat het instrument zegt", "en": "What the instrument says"},
    "score_note": {
        "nl": "Dit is een schatting van een risico-instrument, geen besluit. U beslist zelf.",
        "en": "This is a risk instrument's estimate, not a decision. You decide.",
    },
    "band": {"nl": "Categorie", "en": "Band"},
    "band_of": {
        "nl": "op een schaal van {low} tot {high}",
        "en": "on a scale from {low} to {high}",
    },
    "band_range": {
        "nl": "Onzeker: tussen {low} en {high}, omdat een gegeven onbekend is.",
        "en": "Uncertain: between {low} and {high}, because an input is unknown.",
    },
    "suggests": {
        "nl": "Deze categorie geeft aanleiding tot selectie.",
        "en": "This band suggests selection.",
    },
    "suggests_not": {
        "nl": "Deze categorie geeft geen aanleiding tot selectie.",
        "en": "This band does not suggest selection.",
    },
    "probabilities": {"nl": "Geschatte kansen", "en": "Estimated probabilities"},
    "outcome_col": {"nl": "Uitkomst", "en": "Outcome"},
    "probability": {"nl": "Kans", "en": "Probability"},
    "uncertainty": {
        "nl": "Een kans geldt voor een groep vergelijkbare mensen, niet voor deze persoon "
        "zeker. Hoe goed het instrument onderscheidt en hoe goed de kansen kloppen, staat "
        "in de validatie van het instrument ({instrument} {version}).",
        "en": "A probability holds for a group of similar people, not for this person with "
        "certainty. How well the instrument ranks and how well its probabilities fit is in "
        "the instrument's validation ({instrument} {version}).",
    },
    "factors_h": {"nl": "Waarom deze score", "en": "Why this score"},
    "factor": {"nl": "Factor", "en": "Factor"},
    "value": {"nl": "Waarde", "en": "Value"},
    "effect": {"nl": "Effect", "en": "Effect"},
    "unknown": {"nl": "onbekend", "en": "unknown"},
    "decision_h": {"nl": "Besluit", "en": "Decision"},
    "decision_intro": {
        "nl": "U beslist, niet de score. Geef uw besluit en waarom. Wijkt uw besluit af van "
        "wat de categorie aangeeft, leg dan uit waarom.",
        "en": "You decide, not the score. Give your decision and why. If it departs from "
        "what the band suggests, explain why.",
    },
    "outcome": {"nl": "Uitkomst", "en": "Outcome"},
    "selected": {"nl": "Selecteren", "en": "Select"},
    "not_selected": {"nl": "Niet selecteren", "en": "Do not select"},
    "rationale": {"nl": "Motivering", "en": "Rationale"},
    "rationale_hint": {
        "nl": "In uw eigen woorden, minstens 10 tekens.",
        "en": "In your own words, at least 10 characters.",
    },
    "follows_h": {
        "nl": "Volgt dit besluit de score?",
        "en": "Does this decision follow the score?",
    },
    "follows_unknown": {
        "nl": "De categorie is onzeker; zeg zelf of uw besluit de score volgt.",
        "en": "The band is uncertain; say yourself whether your decision follows the score.",
    },
    "yes": {"nl": "Ja", "en": "Yes"},
    "no": {"nl": "Nee", "en": "No"},
    "decide": {"nl": "Besluit vastleggen", "en": "Record decision"},
    "decided_by": {"nl": "Besloten door", "en": "Decided by"},
    "decided_at": {"nl": "Op", "en": "At"},
    "follows": {"nl": "Volgt de score", "en": "Follows the score"},
    "departs": {"nl": "Wijkt af van de score", "en": "Departs from the score"},
    "notice_h": {"nl": "Bericht aan de betrokkene", "en": "Notice to the person"},
    "notice_nl": {"nl": "Bericht (Nederlands)", "en": "Notice (Dutch)"},
    "notice_en": {"nl": "Bericht (Engels)", "en": "Notice (English)"},
    "pdf": {"nl": "PDF om te printen", "en": "PDF to print"},
    "inputs_h": {"nl": "Gegevens", "en": "Inputs"},
    "error_h": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "back": {"nl": "Terug naar de werkvoorraad", "en": "Back to the queue"},
    "oversight_intro": {
        "nl": "Beslissen mensen echt? Afwijkingen van de score, tijd tussen openen en "
        "besluiten (heel snel is een signaal van afstempelen) en overeenstemming per week. "
        "Elk percentage met aantal en 95%-betrouwbaarheidsinterval.",
        "en": "Do people really decide? Departures from the score, time from opening to "
        "deciding (very fast is a rubber-stamping signal) and agreement per week. Every "
        "rate with its count and 95% confidence interval.",
    },
    "cases_n": {"nl": "Zaken", "en": "Cases"},
    "decided": {"nl": "Besloten", "en": "Decided"},
    "undecided": {"nl": "Open", "en": "Undecided"},
    "overrides": {"nl": "Afwijkingen van de score", "en": "Departures from the score"},
    "fast": {"nl": "Snelle besluiten (< {s} s)", "en": "Fast decisions (< {s} s)"},
    "median_s": {"nl": "Mediane tijd tot besluit", "en": "Median time to decide"},
    "deleted": {"nl": "Verwijderd na bewaartermijn", "en": "Deleted after retention"},
    "by_caseworker": {"nl": "Per medewerker", "en": "By case worker"},
    "by_team": {"nl": "Per team", "en": "By team"},
    "by_band": {"nl": "Per categorie", "en": "By band"},
    "decisions": {"nl": "Besluiten", "en": "Decisions"},
    "trend_h": {
        "nl": "Overeenstemming met de score per week",
        "en": "Agreement with the score per week",
    },
    "week": {"nl": "Week", "en": "Week"},
    "agreement": {"nl": "Overeenstemming", "en": "Agreement"},
    "flagged_h": {"nl": "Snelle besluiten (recentste)", "en": "Fast decisions (most recent)"},
    "seconds": {"nl": "Seconden", "en": "Seconds"},
    "decider": {"nl": "Beslisser", "en": "Decider"},
    "cube": {
        "nl": "Selecties en besluiten als kubus (zonder persoonsgegevens), voor de periodieke "
        "discriminatietoets met waarborg audit",
        "en": "Selections and decisions as a cube (no personal data), for the periodic "
        "discrimination re-test with waarborg audit",
    },
    "processes_intro": {
        "nl": "Geregistreerde processen: doel, instrument (vastgepind op de inhoudshash), "
        "teams en bewaartermijn.",
        "en": "Registered processes: purpose, instrument (pinned by content hash), teams and "
        "retention period.",
    },
    "name": {"nl": "Naam", "en": "Name"},
    "instrument": {"nl": "Instrument", "en": "Instrument"},
    "teams": {"nl": "Teams", "en": "Teams"},
    "purpose": {"nl": "Doel", "en": "Purpose"},
    "retention_days": {"nl": "Bewaartermijn (dagen)", "en": "Retention (days)"},
    "register_ref": {"nl": "Algoritmeregister", "en": "Algorithm register"},
    "new_process": {"nl": "Nieuw proces registreren", "en": "Register a new process"},
    "team": {"nl": "Team", "en": "Team"},
    "register": {"nl": "Registreren", "en": "Register"},
    "auditlog_intro": {
        "nl": "Elke inzage en wijziging van persoonsgegevens, in een keten van hashes: "
        "een gewijzigde, ingevoegde of verwijderde regel valt op.",
        "en": "Every read and write of personal data, in a chain of hashes: a changed, "
        "inserted or deleted entry shows.",
    },
    "chain_ok": {
        "nl": "De keten is intact: {n} regels, laatste hash {hash}.",
        "en": "The chain is intact: {n} entries, last hash {hash}.",
    },
    "chain_bad": {"nl": "De keten is verbroken: {reason}", "en": "The chain is broken: {reason}"},
    "seq": {"nl": "Nr.", "en": "No."},
    "at": {"nl": "Tijd", "en": "Time"},
    "actor": {"nl": "Wie", "en": "Who"},
    "action": {"nl": "Handeling", "en": "Action"},
    "detail": {"nl": "Details", "en": "Detail"},
    "older": {"nl": "Volgende regels", "en": "Next entries"},
    "ci": {"nl": "95%-BI", "en": "95% CI"},
    "conditions": {"nl": "Vijf voorwaarden", "en": "Five conditions"},
    "conditions_intro": {
        "nl": "De voorwaarden van de Autoriteit Persoonsgegevens voor geautomatiseerde "
        "risicoselectie, getoetst aan het bewijs in waarborg: audits, besluiten, het logboek "
        "en de berichten.",
        "en": "The data protection authority's conditions for automated risk selection, "
        "checked against the evidence in waarborg: audits, decisions, the log and notices.",
    },
    "met": {"nl": "Voldaan", "en": "Met"},
    "not_met": {"nl": "Niet voldaan", "en": "Not met"},
    "unknown_status": {"nl": "Onbekend", "en": "Unknown"},
    "evidence": {"nl": "Bewijs", "en": "Evidence"},
    "missing": {"nl": "Ontbreekt", "en": "Missing"},
    "warnings": {"nl": "Waarschuwingen", "en": "Warnings"},
    "revalidation_h": {
        "nl": "Hervalidatie nodig (beleid van het instrument)",
        "en": "Revalidation needed (the instrument's policy)",
    },
    "users": {"nl": "Gebruikers", "en": "Users"},
    "users_intro": {
        "nl": "Alle accounts. Deactiveren en een nieuw wachtwoord gelden meteen. Een nieuw "
        "account, heractiveren en een andere rol of ander team geven toegang tot "
        "persoonsgegevens; ze gelden pas als een tweede beheerder ze goedkeurt.",
        "en": "Every account. Deactivating and a new password take effect at once. A new "
        "account, a reactivation and another role or team give access to personal data; "
        "they take effect only when a second admin approves them.",
    },
    "display_name": {"nl": "Weergavenaam", "en": "Display name"},
    "role": {"nl": "Rol", "en": "Role"},
    "status": {"nl": "Status", "en": "Status"},
    "active": {"nl": "actief", "en": "active"},
    "inactive": {"nl": "niet actief", "en": "inactive"},
    "must_change": {
        "nl": "moet wachtwoord wijzigen",
        "en": "must change password",
    },
    "new_user": {"nl": "Nieuwe gebruiker", "en": "New user"},
    "new_user_intro": {
        "nl": "Het account blijft inactief tot een tweede beheerder het goedkeurt. De "
        "gebruiker kiest bij de eerste keer inloggen een eigen wachtwoord.",
        "en": "The account stays inactive until a second admin approves it. The user "
        "chooses their own password at first sign-in.",
    },
    "onetime_password": {"nl": "Eenmalig wachtwoord", "en": "One-off password"},
    "create_user": {"nl": "Gebruiker aanmaken", "en": "Add user"},
    "four_eyes_note": {
        "nl": "Wijzigingen die toegang geven, wachten op goedkeuring door een andere beheerder.",
        "en": "Changes that give access wait for another admin's approval.",
    },
    "deactivate": {"nl": "Deactiveren", "en": "Deactivate"},
    "reactivate": {"nl": "Heractiveren aanvragen", "en": "Ask to reactivate"},
    "change_role": {"nl": "Andere rol", "en": "Another role"},
    "change_team": {"nl": "Ander team", "en": "Another team"},
    "request_change": {"nl": "Wijziging aanvragen", "en": "Ask for the change"},
    "reset_password": {"nl": "Nieuw wachtwoord instellen", "en": "Reset password"},
    "reset_intro": {
        "nl": "De gebruiker moet dit wachtwoord bij de volgende keer inloggen vervangen; "
        "alle sessies van de gebruiker eindigen meteen.",
        "en": "The user must replace this password at next sign-in; every session of the "
        "user ends at once.",
    },
    "pending_h": {"nl": "Wachtende toegangswijzigingen", "en": "Pending access changes"},
    "pending_intro": {
        "nl": "Een wijziging die toegang tot persoonsgegevens geeft, gaat pas in als een "
        "andere beheerder dan de aanvrager haar goedkeurt (vier ogen).",
        "en": "A change that gives access to personal data takes effect only when an admin "
        "other than the one who asked approves it (four eyes).",
    },
    "pending_none": {"nl": "Er wacht niets.", "en": "Nothing is pending."},
    "recent_h": {"nl": "Recente toegangswijzigingen", "en": "Recent access changes"},
    "recent_none": {"nl": "Nog geen.", "en": "None yet."},
    "change_no": {"nl": "Nr.", "en": "No."},
    "kind": {"nl": "Soort", "en": "Kind"},
    "kind_create": {"nl": "nieuw account", "en": "new account"},
    "kind_reactivate": {"nl": "heractiveren", "en": "reactivation"},
    "kind_role": {"nl": "andere rol", "en": "another role"},
    "kind_team": {"nl": "ander team", "en": "another team"},
    "requested_by": {"nl": "Aangevraagd door", "en": "Asked by"},
    "status_pending": {"nl": "wacht", "en": "pending"},
    "status_approved": {"nl": "goedgekeurd", "en": "approved"},
    "status_rejected": {"nl": "afgewezen", "en": "rejected"},
    "approve": {"nl": "Goedkeuren", "en": "Approve"},
    "reject": {"nl": "Afwijzen", "en": "Reject"},
    "password_h": {"nl": "Wachtwoord wijzigen", "en": "Change password"},
    "password_intro": {
        "nl": "Geef uw huidige wachtwoord en kies een nieuw. Daarna eindigen al uw andere sessies.",
        "en": "Give your current password and choose a new one. Every other session of "
        "yours then ends.",
    },
    "password_must": {
        "nl": "Uw wachtwoord is opnieuw ingesteld. Kies eerst een eigen wachtwoord; tot dan "
        "kunt u niets anders doen.",
        "en": "Your password was reset. Choose your own password first; until then you can "
        "do nothing else.",
    },
    "current_password": {"nl": "Huidig wachtwoord", "en": "Current password"},
    "new_password": {"nl": "Nieuw wachtwoord", "en": "New password"},
    "new_password_again": {"nl": "Nieuw wachtwoord (nogmaals)", "en": "New password (again)"},
    "change_password": {"nl": "Wachtwoord wijzigen", "en": "Change password"},
    "reason_h": {"nl": "Waarom deze zaak wordt gecontroleerd", "en": "Why this case is checked"},
    "reason_reference": {
        "nl": "Deze zaak is door loting gekozen voor de aselecte referentiesteekproef: {share} "
        "van alle zaken wordt willekeurig gecontroleerd, wat de score ook is. Zo meten we of "
        "de selectie werkt en eerlijk is. De reden voor de controle is de loting, niet de "
        "score en niets anders over deze persoon.",
        "en": "This case was drawn at random for the reference sample: {share} of all cases "
        "are checked at random, whatever their score. That measures whether the selection "
        "works and is fair. The reason for the check is the draw, not the score nor anything "
        "else about this person.",
    },
    "reason_both": {
        "nl": "De categorie van de score gaf ook aanleiding tot selectie.",
        "en": "The score's band also suggested selection.",
    },
    "reason_draw": {
        "nl": "Loting: waarde {value}, getrokken als die onder {share} ligt (startgetal nr. "
        "{seed}).",
        "en": "Draw: value {value}, drawn when below {share} (seed no. {seed}).",
    },
    "reason_factors_hidden": {
        "nl": "Waarom de score zo uitviel, tonen we bij een zaak uit de referentiesteekproef "
        "niet: de controle hoort niet af te hangen van de score.",
        "en": "Why the case scored as it did is not shown for a case of the reference sample: "
        "the check should not depend on the score.",
    },
    "check_h": {"nl": "Uitkomst van de controle", "en": "Outcome of the check"},
    "check_intro": {
        "nl": "Leg vast wat de controle heeft vastgesteld. Een correctie is een nieuwe "
        "uitkomst; eerdere uitkomsten blijven bewaard.",
        "en": "Record what the check established. A correction is a new outcome; earlier "
        "outcomes are kept.",
    },
    "check_found": {
        "nl": "Gevonden (bijvoorbeeld een onregelmatigheid)",
        "en": "Found (e.g. an irregularity)",
    },
    "check_not_found": {"nl": "Niets gevonden", "en": "Nothing found"},
    "check_observed_on": {"nl": "Vastgesteld op", "en": "Established on"},
    "check_note": {"nl": "Toelichting (niet verplicht)", "en": "Note (optional)"},
    "check_record": {"nl": "Uitkomst vastleggen", "en": "Record the outcome"},
    "check_history": {"nl": "Vastgelegde uitkomsten", "en": "Recorded outcomes"},
    "check_none": {"nl": "Nog geen uitkomst vastgelegd.", "en": "No outcome recorded yet."},
    "check_by": {"nl": "Vastgelegd door", "en": "Recorded by"},
    "check_supersedes": {"nl": "vervangt nr. {id}", "en": "replaces no. {id}"},
    "check_result": {"nl": "Uitkomst", "en": "Outcome"},
    "selectivity": {"nl": "Selectiviteit", "en": "Selectivity"},
    "selectivity_intro": {
        "nl": "Werkt de selectie, en voor wie? Geschat uit de aselecte referentiesteekproef "
        "({share} van de zaken sinds dat aandeel is ingesteld) en de vastgelegde uitkomsten "
        "van de controles. Alleen totalen, geen persoonsgegevens.",
        "en": "Does the selection work, and for whom? Estimated from the random reference "
        "sample ({share} of the cases since that share was set) and the recorded outcomes "
        "of the checks. Aggregates only, no personal data.",
    },
    "selectivity_json": {"nl": "Dezelfde cijfers als JSON", "en": "The same figures as JSON"},
    "check_not_checked": {
        "nl": "Deze zaak ging niet naar een controle (niet geselecteerd en niet geloot).",
        "en": "This case went to no check (neither selected nor drawn).",
    },
}


def texts(lang: Lang) -> dict[str, str]:
    """Every text in ``lang``."""
    return {key: value[lang] for key, value in TEXT.items()}
