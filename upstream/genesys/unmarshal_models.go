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
// nested objects by hand, the rarely sent expansions through json v2
// (userRareMember), its raw parts by copy.
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
	if raw := u.rawMember(name); raw != nil {
		return readRaw(dec, st, raw)
	}
	return userRareMember(dec, u, name)
}

// rawMember returns the field of u that keeps the member name as raw
// JSON, or nil.
func (u *User) rawMember(name []byte) *jsontext.Value {
	switch string(name) {
	case "routingStatus":
		return &u.RoutingStatus
	case "presence":
		return &u.Presence
	case "integrationPresence":
		return &u.IntegrationPresence
	case "conversationSummary":
		return &u.ConversationSummary
	case "outOfOffice":
		return &u.OutOfOffice
	case "geolocation":
		return &u.Geolocation
	case "station":
		return &u.Station
	case "authorization":
		return &u.Authorization
	case "locations":
		return &u.Locations
	case "team":
		return &u.Team
	case "workPlanBidRanks":
		return &u.WorkPlanBidRanks
	case "skills":
		return &u.Skills
	case "languages":
		return &u.Languages
	case "lastTokenIssued":
		return &u.LastTokenIssued
	}
	return nil
}

// userRareMember decodes the members of a User that the gateway seldom
// asks for with json v2 itself, and skips unknown names.
func userRareMember(dec *jsontext.Decoder, u *User, name []byte) error {
	switch string(name) {
	case "certifications":
		return jsonv2.UnmarshalDecode(dec, &u.Certifications)
	case "biography":
		return jsonv2.UnmarshalDecode(dec, &u.Biography)
	case "employerInfo":
		return jsonv2.UnmarshalDecode(dec, &u.EmployerInfo)
	case "profileSkills":
		return jsonv2.UnmarshalDecode(dec, &u.ProfileSkills)
	case "groups":
		return jsonv2.UnmarshalDecode(dec, &u.Groups)
	}
	return dec.SkipValue()
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
