package resolvers

import (
	"strconv"

	"github.com/groupdir/gateway/upstream"
)

// Argument limits. They keep one GraphQL field within one upstream call.
const (
	maxIDsPerList        = 100
	maxPageSize          = 100
	maxUserGroupPageSize = 250
	defaultPageSize      = 25
	defaultUGPageSize    = 50
	maxStringArg         = 1024
)

// page validates 1-based paging arguments and returns the values to send.
func page(pageSize, pageNumber *int, def, limit int) (size, number int, err error) {
	size, number = def, 1
	if pageSize != nil {
		if *pageSize < 1 || *pageSize > limit {
			return 0, 0, badInput("pageSize", "must be between 1 and "+strconv.Itoa(limit))
		}
		size = *pageSize
	}
	if pageNumber != nil {
		if *pageNumber < 1 || *pageNumber > 1_000_000 {
			return 0, 0, badInput("pageNumber", "must be between 1 and 1000000")
		}
		number = *pageNumber
	}
	return size, number, nil
}

// idList validates a list of UUIDs given as an argument.
func idList(field string, ids []string) error {
	if len(ids) > maxIDsPerList {
		return badInput(field, "at most "+strconv.Itoa(maxIDsPerList)+" ids")
	}
	return upstream.CheckIDs(field, ids)
}

// stringList validates a list of free strings given as an argument.
func stringList(field string, values []string) error {
	if len(values) > maxIDsPerList {
		return badInput(field, "at most "+strconv.Itoa(maxIDsPerList)+" values")
	}
	for _, v := range values {
		if err := text(field, v); err != nil {
			return err
		}
	}
	return nil
}

// text validates a free string argument: not empty, bounded, no control
// characters.
func text(field, v string) error {
	if v == "" || len(v) > maxStringArg {
		return badInput(field, "must be 1 to "+strconv.Itoa(maxStringArg)+" bytes")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return badInput(field, "must not contain control characters")
		}
	}
	return nil
}

func badInput(field, reason string) error {
	return &upstream.InputError{Field: field, Reason: reason}
}
