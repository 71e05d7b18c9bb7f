// Package genesysemu is an in-memory emulator of the Genesys Cloud Groups API
// (the 18 operations of the gateway's contract), of its client-credentials
// token endpoint (POST /oauth/token) and of GET /api/v2/users/me. It is
// written from ../shared/reference/genesys-groups-api.md independently of
// the typed client, so that the contract test between the two catches
// mapping bugs on either side.
//
// It is seeded from demodata, so the ids it serves are the ones the
// Usergroup emulator's ExternalIds name: group i has id GroupID(i), name
// GroupName(i), jabberId GroupJabberID(i) (lookups only: the Group model has
// no jabber field), individuals MemberIndexes(i), owner the first of them,
// includeOwners off, version 1+i%5; group DynamicGroup has a dynamic
// definition. Every route is registered on an emukit.Kit (Server.Kit) under
// the Route constants, for call accounting and fault injection.
//
// Every answer carries an ININ-Correlation-Id (a UUID) that error bodies
// repeat as contextId, and the inin-ratelimit-* headers once the caller is
// authenticated. Where the reference leaves behaviour open, the emulator
// chooses:
//
//   - Paging: pageSize 1-500 (GET /groups, /profiles/groups, /members) and
//     1-100 (search), pageNumber from 1; anything else, pageSize=0 included,
//     is 400 invalid.value. A page past the end is empty. nextUri is left out
//     on the last page, previousUri on the first.
//   - GET /groups and /profiles/groups: id and jabberId lists in repeated or
//     comma-joined form, at most 100, deduplicated; unknown ones are left out;
//     an id that is not a UUID, or id with jabberId, is 400. The matches are
//     paged and sorted by name like any listing, so a caller must ask for a
//     pageSize of at least the number of ids.
//   - members = individuals plus, when includeOwners, the owners (no
//     dynamically included users: the emulator has no user skills to
//     evaluate dynamic rules against); individuals = users added directly,
//     all on one page. Both sort by name. Known expand values (presence,
//     routingStatus, outOfOffice, certifications, employerInfo, biography,
//     languagePreference, dateLastLogin, dateWelcomeSent) add data; others
//     are ignored.
//   - POST members: 1-50 ids, version optional (SDK 247), a stale one is a
//     conflict; unknown users refuse the whole request with 400 naming
//     them, current members are ignored. DELETE members: 1-50 ids, unknown
//     users 400, non-members ignored. Both answer 202 {} and add 1 to the
//     version, even when nothing changed.
//   - POST /groups: description is dropped, includeOwners, rolesEnabled and
//     callsEnabled default to false, ownerIds must be known users. PUT keeps
//     omitted fields, ownerIds [] or [" "] clears the owners. DELETE
//     answers 200.
//   - Writes (Server.SetWrites; off in demo mode): a stale version is
//     answered in one of Genesys' three forms (409 general.conflict, 400
//     "The version 3 does not match the current version 4", 408); group
//     DELETE and member changes can become visible only after a delay, and
//     a DELETE can be dropped silently, as the real API's asynchronous
//     writes. By default every write is visible at once.
//   - Request bodies must be application/json (else 415) and one JSON value
//     (else 400). Keys the model does not name exactly (unknown, or in
//     another case) are ignored, or refused with 400 under
//     Options.StrictBodies.
//   - Dynamic settings: PUT and DELETE answer 204; absent condition lists
//     are stored as []; nesting deeper than 8 is 400. The preview's userCount
//     is a hash of the query modulo users+1.
//   - Search: types EXACT, STARTS_WITH, CONTAINS, TERM and TERMS (whole
//     words), REGEX (whole value, RE2), REQUIRED_FIELDS and MATCH_ALL, all
//     ignoring case, over name, description, id, state, type and visibility;
//     others are 400. Every AND criterion must match, no NOT criterion may,
//     and at least one OR criterion when there are any; a criterion's group
//     must match as a whole; a criterion without a type, nested or not, is
//     400. SCORE sorts by name. As in the official sample, previousPage
//     equals currentPage on page 1 and nextPage is present on every page,
//     the last one included. GET search ignores expand.
//   - Tokens from the token endpoint may call everything; caller tokens
//     (Options.Tokens) need the permission an operation documents (403
//     missing.any.permissions) and are the only ones users/me answers (a
//     client-credentials token gets 400 not.a.user).
package genesysemu
