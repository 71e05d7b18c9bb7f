package upstream

// CheckID accepts only the canonical UUID shape (8-4-4-4-12 hexadecimal
// digits), the shape of every Genesys and Usergroup id. Anything else, such as
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
