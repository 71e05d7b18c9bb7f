package upstream

import (
	"strconv"
	"strings"
)

// CheckID accepts only the canonical UUID shape (8-4-4-4-12 hexadecimal
// digits), the shape of every Genesys id (the forms platform's ids are
// checked by CheckOpaqueID). Anything else, such as
// "..", "a/b", "%2e%2e" or a value with a query string, could change the path,
// query or host of the request it is put into; it is rejected as an
// *InputError before any request is built, so it costs no upstream call.
func CheckID(field, id string) error {
	if !isUUID(id) {
		return &InputError{Field: field, Reason: "must be a UUID (8-4-4-4-12 hexadecimal digits)"}
	}
	return nil
}

// CheckIDs applies CheckID to each id.
func CheckIDs(field string, ids []string) error {
	for _, id := range ids {
		if err := CheckID(field, id); err != nil {
			return err
		}
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !hexDigit[s[i]] && i != 8 && i != 13 && i != 18 && i != 23 {
			return false
		}
	}
	return true
}

// hexDigit tells the bytes that are hexadecimal digits (a table: ids are
// checked on every lookup, 100 at a time).
var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// MaxOpaqueIDLen is the longest id CheckOpaqueID accepts: room for a GUID in
// any of its spellings (32 to 38 characters) and for other shapes a platform
// may answer, short enough to keep a request line and a log line small.
const MaxOpaqueIDLen = 64

// CheckOpaqueID accepts an id whose shape the gateway does not interpret:
// 1 to MaxOpaqueIDLen ASCII letters, digits, '-' and '_', at least one a
// letter or a digit. It is the check of
// the forms platform's user-group and user ids, which the platform answers
// as 32 hex digits without hyphens (ServiceStack's "N" GUID form) and may
// answer in other shapes. Every accepted id is a single unreserved URL
// token: it cannot hold '.', '/', '?', '#', '%', '&', '=', a space or a
// control character, so put in a query parameter or a path segment it
// changes nothing but its own value. Anything else is an *InputError,
// returned before any request is built. Genesys ids keep CheckID.
func CheckOpaqueID(field, id string) error {
	if id == "" || len(id) > MaxOpaqueIDLen {
		return &InputError{Field: field, Reason: "must be 1 to " + strconv.Itoa(MaxOpaqueIDLen) + " characters"}
	}
	alnum := false
	for i := 0; i < len(id); i++ {
		if !opaqueIDByte[id[i]] {
			return &InputError{Field: field, Reason: "must hold only letters, digits, '-' and '_'"}
		}
		alnum = alnum || id[i] != '-' && id[i] != '_'
	}
	if !alnum {
		// "-" and "--" would be the same id (OpaqueIDKey): neither is one.
		return &InputError{Field: field, Reason: "must hold a letter or a digit"}
	}
	return nil
}

// CheckOpaqueIDs applies CheckOpaqueID to each id.
func CheckOpaqueIDs(field string, ids []string) error {
	for _, id := range ids {
		if err := CheckOpaqueID(field, id); err != nil {
			return err
		}
	}
	return nil
}

// OpaqueIDKey is the form in which opaque ids are compared: lower case,
// hyphens removed, so that "B42A…" and "b42a…", or a GUID with and without
// its hyphens, are the same id (the platform may answer either spelling of
// an id it was given).
func OpaqueIDKey(id string) string {
	return strings.ReplaceAll(strings.ToLower(id), "-", "")
}

// opaqueIDByte tells the bytes CheckOpaqueID accepts.
var opaqueIDByte = func() (t [256]bool) {
	for _, c := range "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_" {
		t[c] = true
	}
	return t
}()
