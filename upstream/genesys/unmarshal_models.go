package genesys

import (
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The member functions of the hand-decoded types: one case per member
// name, as the json tags spell it; an unknown name's value is skipped.

func decodeUserPage(dec *jsontext.Decoder, st *decodeState, l *UserEntityListing) error {
	return readObject(dec, st, l, userPageMember)
}

func userPageMember(dec *jsontext.Decoder, st *decodeState, l *UserEntityListing, name []byte) error {
	if string(name) == "entities" {
		return readEntities(dec, st, &l.Entities, &st.users, decodeUser)
	}
	return pageMember(dec, st, &l.Page, name)
}

func decodeGroupPage(dec *jsontext.Decoder, st *decodeState, l *GroupEntityListing) error {
	return readObject(dec, st, l, groupPageMember)
}

func groupPageMember(dec *jsontext.Decoder, st *decodeState, l *GroupEntityListing, name []byte) error {
	if string(name) == "entities" {
		return readEntities(dec, st, &l.Entities, &st.groups, decodeGroup)
	}
	return pageMember(dec, st, &l.Page, name)
}

func decodeSearchPage(dec *jsontext.Decoder, st *decodeState, r *GroupsSearchResponse) error {
	return readObject(dec, st, r, searchPageMember)
}

func searchPageMember(dec *jsontext.Decoder, st *decodeState, r *GroupsSearchResponse, name []byte) error {
	switch string(name) {
	case "total":
		return readInt(dec, st, &r.Total)
	case "pageCount":
		return readInt(dec, st, &r.PageCount)
	case "pageSize":
		return readInt(dec, st, &r.PageSize)
	case "pageNumber":
		return readInt(dec, st, &r.PageNumber)
	case "previousPage":
		return readString(dec, st, &r.PreviousPage)
	case "currentPage":
		return readString(dec, st, &r.CurrentPage)
	case "nextPage":
		return readString(dec, st, &r.NextPage)
	case "types":
		return jsonv2.UnmarshalDecode(dec, &r.Types)
	case "results":
		return readEntities(dec, st, &r.Results, &st.groups, decodeGroup)
	}
	return dec.SkipValue()
}

func pageMember(dec *jsontext.Decoder, st *decodeState, p *Page, name []byte) error {
	switch string(name) {
	case "pageSize":
		return readInt(dec, st, &p.PageSize)
	case "pageNumber":
		return readInt(dec, st, &p.PageNumber)
	case "total":
		return readInt(dec, st, &p.Total)
	case "pageCount":
		return readInt(dec, st, &p.PageCount)
	case "firstUri":
		return readString(dec, st, &p.FirstURI)
	case "previousUri":
		return readString(dec, st, &p.PreviousURI)
	case "nextUri":
		return readString(dec, st, &p.NextURI)
	case "lastUri":
		return readString(dec, st, &p.LastURI)
	case "selfUri":
		return readString(dec, st, &p.SelfURI)
	}
	return dec.SkipValue()
}

func decodeUser(dec *jsontext.Decoder, st *decodeState, u *User) error {
	return readObject(dec, st, u, userMember)
}

// userMember decodes the members of a User: its strings, numbers and
// nested objects by hand, its expansions with expansionMember.
func userMember(dec *jsontext.Decoder, st *decodeState, u *User, name []byte) error {
	if st.fields.skipUser(name) {
		return dec.SkipValue()
	}
	switch string(name) {
	case "id":
		return readString(dec, st, &u.ID)
	case "name":
		return readString(dec, st, &u.Name)
	case "division":
		return readPtr(dec, st, &u.Division, &st.divisions, decodeDivision)
	case "chat":
		return readPtr(dec, st, &u.Chat, &st.chats, decodeChat)
	case "department":
		return readString(dec, st, &u.Department)
	case "email":
		return readString(dec, st, &u.Email)
	case "primaryContactInfo":
		return readSlice(dec, st, &u.PrimaryContactInfo, &st.contacts, decodeContact)
	case "addresses":
		return readSlice(dec, st, &u.Addresses, &st.contacts, decodeContact)
	case "state":
		return readEnum(dec, st, (*string)(&u.State), knownState[[]byte])
	case "title":
		return readString(dec, st, &u.Title)
	case "username":
		return readString(dec, st, &u.Username)
	case "manager":
		return readPtr(dec, st, &u.Manager, nil, decodeUser)
	case "images":
		return readSlice(dec, st, &u.Images, &st.images, decodeImage)
	case "version":
		return readInt(dec, st, &u.Version)
	case "preferredName":
		return readString(dec, st, &u.PreferredName)
	case "acdAutoAnswer":
		return readBoolPtr(dec, st, &u.AcdAutoAnswer)
	case "languagePreference":
		return readString(dec, st, &u.LanguagePreference)
	case "dateLastLogin":
		return readString(dec, st, &u.DateLastLogin)
	case "dateWelcomeSent":
		return readString(dec, st, &u.DateWelcomeSent)
	case "selfUri":
		return readString(dec, st, &u.SelfURI)
	}
	return expansionMember(dec, st, u, name)
}

// expansionFields give the field of a UserExpansions that keeps each of
// its members, by JSON name.
var expansionFields = map[string]func(x *UserExpansions) any{
	"certifications":      func(x *UserExpansions) any { return &x.Certifications },
	"biography":           func(x *UserExpansions) any { return &x.Biography },
	"employerInfo":        func(x *UserExpansions) any { return &x.EmployerInfo },
	"routingStatus":       func(x *UserExpansions) any { return &x.RoutingStatus },
	"presence":            func(x *UserExpansions) any { return &x.Presence },
	"integrationPresence": func(x *UserExpansions) any { return &x.IntegrationPresence },
	"conversationSummary": func(x *UserExpansions) any { return &x.ConversationSummary },
	"outOfOffice":         func(x *UserExpansions) any { return &x.OutOfOffice },
	"geolocation":         func(x *UserExpansions) any { return &x.Geolocation },
	"station":             func(x *UserExpansions) any { return &x.Station },
	"authorization":       func(x *UserExpansions) any { return &x.Authorization },
	"profileSkills":       func(x *UserExpansions) any { return &x.ProfileSkills },
	"locations":           func(x *UserExpansions) any { return &x.Locations },
	"groups":              func(x *UserExpansions) any { return &x.Groups },
	"team":                func(x *UserExpansions) any { return &x.Team },
	"workPlanBidRanks":    func(x *UserExpansions) any { return &x.WorkPlanBidRanks },
	"skills":              func(x *UserExpansions) any { return &x.Skills },
	"languages":           func(x *UserExpansions) any { return &x.Languages },
	"lastTokenIssued":     func(x *UserExpansions) any { return &x.LastTokenIssued },
}

// expansionMember decodes a member of u's expansions, taking them from
// the state's slab on the first one (a null member too, as json v2
// does), and skips unknown names. The raw parts are copied, the others,
// seldom sent, decoded with json v2 itself.
func expansionMember(dec *jsontext.Decoder, st *decodeState, u *User, name []byte) error {
	field, ok := expansionFields[string(name)]
	if !ok {
		return dec.SkipValue()
	}
	if u.Expansions == nil {
		u.Expansions = st.expansions.next()
	}
	switch p := field(u.Expansions).(type) {
	case *jsontext.Value:
		return readRaw(dec, st, p)
	default:
		return jsonv2.UnmarshalDecode(dec, p)
	}
}

func decodeDivision(dec *jsontext.Decoder, st *decodeState, d *Division) error {
	return readObject(dec, st, d, func(dec *jsontext.Decoder, st *decodeState, d *Division, name []byte) error {
		switch string(name) {
		case "id":
			return readString(dec, st, &d.ID)
		case "name":
			return readString(dec, st, &d.Name)
		case "selfUri":
			return readString(dec, st, &d.SelfURI)
		}
		return dec.SkipValue()
	})
}

func decodeChat(dec *jsontext.Decoder, st *decodeState, c *Chat) error {
	return readObject(dec, st, c, func(dec *jsontext.Decoder, st *decodeState, c *Chat, name []byte) error {
		if string(name) == "jabberId" {
			return readString(dec, st, &c.JabberID)
		}
		return dec.SkipValue()
	})
}

func decodeContact(dec *jsontext.Decoder, st *decodeState, c *Contact) error {
	return readObject(dec, st, c, func(dec *jsontext.Decoder, st *decodeState, c *Contact, name []byte) error {
		switch string(name) {
		case "address":
			return readString(dec, st, &c.Address)
		case "display":
			return readString(dec, st, &c.Display)
		case "mediaType":
			return readString(dec, st, &c.MediaType)
		case "type":
			return readString(dec, st, &c.Type)
		case "extension":
			return readString(dec, st, &c.Extension)
		case "countryCode":
			return readString(dec, st, &c.CountryCode)
		case "integration":
			return readString(dec, st, &c.Integration)
		}
		return dec.SkipValue()
	})
}

func decodeImage(dec *jsontext.Decoder, st *decodeState, im *Image) error {
	return readObject(dec, st, im, func(dec *jsontext.Decoder, st *decodeState, im *Image, name []byte) error {
		switch string(name) {
		case "resolution":
			return readString(dec, st, &im.Resolution)
		case "imageUri":
			return readString(dec, st, &im.ImageURI)
		}
		return dec.SkipValue()
	})
}

func decodeGroup(dec *jsontext.Decoder, st *decodeState, g *Group) error {
	return readObject(dec, st, g, groupMember)
}

func groupMember(dec *jsontext.Decoder, st *decodeState, g *Group, name []byte) error {
	if st.fields.skipGroup(name) {
		return dec.SkipValue()
	}
	switch string(name) {
	case "id":
		return readString(dec, st, &g.ID)
	case "name":
		return readString(dec, st, &g.Name)
	case "description":
		return readString(dec, st, &g.Description)
	case "dateModified":
		return readString(dec, st, &g.DateModified)
	case "memberCount":
		return readInt(dec, st, &g.MemberCount)
	case "state":
		return readEnum(dec, st, (*string)(&g.State), knownState[[]byte])
	case "version":
		return readInt(dec, st, &g.Version)
	case "type":
		return readEnum(dec, st, (*string)(&g.Type), knownGroupType[[]byte])
	case "images":
		return readSlice(dec, st, &g.Images, &st.images, decodeImage)
	case "addresses":
		return readSlice(dec, st, &g.Addresses, &st.groupContacts, decodeGroupContact)
	case "rulesVisible":
		return readBool(dec, st, &g.RulesVisible)
	case "visibility":
		return readEnum(dec, st, (*string)(&g.Visibility), knownVisibility[[]byte])
	case "rolesEnabled":
		return readBoolPtr(dec, st, &g.RolesEnabled)
	case "includeOwners":
		return readBoolPtr(dec, st, &g.IncludeOwners)
	case "callsEnabled":
		return readBoolPtr(dec, st, &g.CallsEnabled)
	case "owners":
		return readSlice(dec, st, &g.Owners, &st.owners, decodeUser)
	case "selfUri":
		return readString(dec, st, &g.SelfURI)
	}
	return dec.SkipValue()
}

func decodeGroupContact(dec *jsontext.Decoder, st *decodeState, c *GroupContact) error {
	return readObject(dec, st, c, func(dec *jsontext.Decoder, st *decodeState, c *GroupContact, name []byte) error {
		switch string(name) {
		case "address":
			return readString(dec, st, &c.Address)
		case "extension":
			return readString(dec, st, &c.Extension)
		case "display":
			return readString(dec, st, &c.Display)
		case "type":
			return readEnum(dec, st, (*string)(&c.Type), knownContactType[[]byte])
		case "mediaType":
			return readString(dec, st, &c.MediaType)
		}
		return dec.SkipValue()
	})
}
