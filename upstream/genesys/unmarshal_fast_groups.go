package genesys

// The fast decoding of a page of groups whose caller reads only their plain
// members (WithFields), as a lookup of groups by id showing their names and
// member counts does: the same one pass as fastUserPage (unmarshal_fast.go),
// with the same rule of giving up, and the caller then decoding the page
// the usual way, at anything it does not handle exactly as that decoding
// (decodeGroupPage) does. It does not read images, addresses or owners.

// The bits (Fields.groups) of the members the fast decoding reads; id is
// always read.
var (
	gName, gDescription, gDateModified, gMemberCount = groupBits["name"], groupBits["description"], groupBits["dateModified"], groupBits["memberCount"]
	gState, gVersion, gType, gRulesVisible           = groupBits["state"], groupBits["version"], groupBits["type"], groupBits["rulesVisible"]
	gVisibility, gRolesEnabled, gIncludeOwners       = groupBits["visibility"], groupBits["rolesEnabled"], groupBits["includeOwners"]
	gCallsEnabled, gSelfURI                          = groupBits["callsEnabled"], groupBits["selfUri"]

	fastGroupFields = groupBits["id"] | gName | gDescription | gDateModified | gMemberCount | gState | gVersion |
		gType | gRulesVisible | gVisibility | gRolesEnabled | gIncludeOwners | gCallsEnabled | gSelfURI
)

// fastGroupPage decodes body, a JSON object, into l when f reads only
// members in fastGroupFields, and reports whether it did; when it did not,
// l is unchanged. size is the page size the request asked for (0: unknown).
func fastGroupPage(body []byte, f Fields, size int, l *GroupEntityListing) bool {
	if f.groups == 0 || f.groups&^fastGroupFields != 0 {
		return false
	}
	s := newFastScan(body, f, size)
	var out GroupEntityListing
	ok := s.page(func(name []byte) bool { return s.groupPageMember(&out, name) })
	return done(&s, ok, &out, l)
}

func (s *fastScan) groupPageMember(l *GroupEntityListing, name []byte) bool {
	if string(name) == "entities" {
		return fastEntities(s, &l.Entities, &s.st.groups, s.groupMember)
	}
	return s.pageMember(&l.Page, name)
}

// groupMember reads a member of a group when f reads it, and otherwise
// skips it.
func (s *fastScan) groupMember(g *Group, name []byte) bool {
	read := s.st.fields.groups
	switch string(name) {
	case "id":
		return s.string(&g.ID)
	case "name":
		if read&gName != 0 {
			return s.string(&g.Name)
		}
	case "description":
		if read&gDescription != 0 {
			return s.string(&g.Description)
		}
	case "dateModified":
		if read&gDateModified != 0 {
			return s.string(&g.DateModified)
		}
	case "memberCount":
		if read&gMemberCount != 0 {
			var ok bool
			g.MemberCount, ok = s.int64()
			return ok
		}
	case "state":
		if read&gState != 0 {
			return s.enum((*string)(&g.State), knownState[[]byte])
		}
	case "version":
		if read&gVersion != 0 {
			return s.int(&g.Version)
		}
	case "type":
		if read&gType != 0 {
			return s.enum((*string)(&g.Type), knownGroupType[[]byte])
		}
	case "rulesVisible":
		if read&gRulesVisible != 0 {
			return s.bool(&g.RulesVisible)
		}
	case "visibility":
		if read&gVisibility != 0 {
			return s.enum((*string)(&g.Visibility), knownVisibility[[]byte])
		}
	case "rolesEnabled":
		if read&gRolesEnabled != 0 {
			return s.boolPtr(&g.RolesEnabled)
		}
	case "includeOwners":
		if read&gIncludeOwners != 0 {
			return s.boolPtr(&g.IncludeOwners)
		}
	case "callsEnabled":
		if read&gCallsEnabled != 0 {
			return s.boolPtr(&g.CallsEnabled)
		}
	case "selfUri":
		if read&gSelfURI != 0 {
			return s.string(&g.SelfURI)
		}
	}
	return s.skip()
}

// enum reads a member whose documented values known accepts, as readEnum
// does: null is "", and any other value, "" included, gives up (the usual
// decoding reports an unknown value as drift).
func (s *fastScan) enum(dst *string, known func([]byte) bool) bool {
	if s.Peek() == 'n' {
		*dst = ""
		return s.Literal("null")
	}
	b, ok := s.text(dst)
	return ok && known(b)
}

// bool reads a boolean, as readBool does: null is false, another kind
// gives up.
func (s *fastScan) bool(dst *bool) bool {
	switch s.Peek() {
	case 'n':
		*dst = false
		return s.Literal("null")
	case 't':
		*dst = true
		return s.Literal("true")
	case 'f':
		*dst = false
		return s.Literal("false")
	}
	return false
}
