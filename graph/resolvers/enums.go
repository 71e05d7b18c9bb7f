package resolvers

import "github.com/groupdir/gateway/graph/model"

// UNKNOWN stands only for upstream values this gateway does not know
// (enumTable.of): the schema cannot keep it out of inputs, so the mapping
// of every input refuses it, before any upstream call.

// refuseUnknown is BAD_USER_INPUT for field when it holds UNKNOWN.
func refuseUnknown[E ~string](field string, e *E) error {
	if e != nil && *e == unknownEnum {
		return badInput(field, "UNKNOWN only stands for upstream values this gateway does not know; it is never accepted as input")
	}
	return nil
}

// groupEnumsKnown refuses UNKNOWN in the enums of a group input.
func groupEnumsKnown(typ *model.GroupType, vis *model.GroupVisibility, state *model.EntityState,
	addresses []model.GroupAddressInput) error {
	for _, err := range []error{refuseUnknown("type", typ), refuseUnknown("visibility", vis), refuseUnknown("state", state)} {
		if err != nil {
			return err
		}
	}
	for i := range addresses {
		if err := refuseUnknown("addresses.type", &addresses[i].Type); err != nil {
			return err
		}
	}
	return nil
}
