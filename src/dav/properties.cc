// Properties: what each resource shows (RFC 4918 section 15, RFC 4791 sections 5.2
// and 6.2, RFC 6352 sections 6.2 and 7.1, RFC 6578 section 4, RFC 5397), PROPFIND,
// PROPPATCH, and the collections MKCALENDAR and extended MKCOL (RFC 5689) make.
#include <algorithm>

#include "base/log.h"
#include "dav/handler_internal.h"

namespace rampart::dav {

namespace {

bool is(const PropName& name, std::string_view ns, std::string_view local) {
  return name.ns == ns && name.name == local;
}

bool is_calendar_side(Kind kind) {
  return kind == Kind::CalendarHome || kind == Kind::Calendar || kind == Kind::CalendarObject;
}

// The collection's dead properties: the children of a stored DAV:prop element.
std::vector<XmlElement> dead_properties(const store::DavCollection& collection) {
  if (collection.properties.empty()) return {};
  auto parsed = parse_xml(collection.properties);
  if (!parsed) {
    log::warn("dav: unreadable dead properties of collection " + std::to_string(collection.id));
    return {};
  }
  return std::move(parsed->children);
}

std::string store_dead_properties(const std::vector<XmlElement>& properties) {
  if (properties.empty()) return {};
  XmlWriter out = new_writer();
  out.open(kDav, "prop");
  for (const auto& property : properties) out.element(property);
  out.close();
  return out.finish();
}

void href_value(XmlWriter& out, const std::string& href) { out.leaf(kDav, "href", href); }

}  // namespace

bool property(const Node& node, const PropName& name, Context& context, XmlWriter* out,
              const DataRequest* data) {
  const Resource& resource = node.resource;
  const Kind kind = resource.kind;
  const store::DavCollection* collection = node.collection;
  const store::DavObject* object = node.object;
  const bool is_collection_node = kind == Kind::Calendar || kind == Kind::AddressBook;
  const bool is_object = kind == Kind::CalendarObject || kind == Kind::Card;
  // Writes the property's element around `value`.
  auto emit = [&](auto value) {
    if (out) {
      out->open(name.ns, name.name);
      value(*out);
      out->close();
    }
    return true;
  };
  auto text = [&](std::string value) { return emit([&](XmlWriter& w) { w.text(value); }); };
  const std::string owner_principal = principal_href(context.account.address);

  if (name.ns == kDav) {
    if (name.name == "resourcetype") {
      return emit([&](XmlWriter& w) {
        if (is_object) return;
        w.empty(kDav, "collection");
        if (kind == Kind::Principal) w.empty(kDav, "principal");
        if (kind == Kind::Calendar) w.empty(kCalDav, "calendar");
        if (kind == Kind::AddressBook) w.empty(kCardDav, "addressbook");
      });
    }
    if (name.name == "displayname") {
      if (kind == Kind::Principal) return text(context.account.address);
      if (is_collection_node && collection) {
        return text(collection->display_name.empty() ? collection->name : collection->display_name);
      }
      return false;
    }
    if (name.name == "current-user-principal") {
      return emit([&](XmlWriter& w) { href_value(w, owner_principal); });
    }
    if (name.name == "principal-URL" && kind == Kind::Principal) {
      return emit([&](XmlWriter& w) { href_value(w, owner_principal); });
    }
    if (name.name == "owner" && kind != Kind::Root) {
      return emit([&](XmlWriter& w) { href_value(w, owner_principal); });
    }
    if (name.name == "current-user-privilege-set") {
      return emit([&](XmlWriter& w) {
        for (std::string_view privilege : {"read", "write", "write-properties", "write-content",
                                           "bind", "unbind", "read-current-user-privilege-set"}) {
          w.open(kDav, "privilege");
          w.empty(kDav, privilege);
          w.close();
        }
        if (is_calendar_side(kind)) {
          w.open(kDav, "privilege");
          w.empty(kCalDav, "read-free-busy");
          w.close();
        }
      });
    }
    if (name.name == "supported-report-set" && kind != Kind::Root) {
      return emit([&](XmlWriter& w) {
        auto report = [&](std::string_view ns, std::string_view report_name) {
          w.open(kDav, "supported-report");
          w.open(kDav, "report");
          w.empty(ns, report_name);
          w.close();
          w.close();
        };
        if (is_calendar_side(kind)) {
          report(kCalDav, "calendar-query");
          report(kCalDav, "calendar-multiget");
          report(kCalDav, "free-busy-query");
        } else if (kind != Kind::Principal) {
          report(kCardDav, "addressbook-query");
          report(kCardDav, "addressbook-multiget");
        }
        if (is_collection_node) report(kDav, "sync-collection");
      });
    }
    if (name.name == "sync-token" && is_collection_node && collection) {
      return text(sync_token(*collection));
    }
    if (is_object && object) {
      if (name.name == "getetag") return text("\"" + object->etag + "\"");
      if (name.name == "getcontentlength") return text(std::to_string(object->size));
      if (name.name == "getcontenttype") {
        return text(kind == Kind::Card ? "text/vcard; charset=utf-8"
                                       : "text/calendar; charset=utf-8");
      }
    }
  }
  if (name.ns == kCalendarServer && name.name == "getctag" && is_collection_node && collection) {
    return text(sync_token(*collection));
  }
  if (name.ns == kCalDav) {
    if (name.name == "calendar-home-set" && kind == Kind::Principal) {
      return emit([&](XmlWriter& w) {
        href_value(w, href({.kind = Kind::CalendarHome,
                            .owner = context.account.address,
                            .collection = {},
                            .object = {}}));
      });
    }
    if (name.name == "calendar-user-address-set" && kind == Kind::Principal) {
      return emit([&](XmlWriter& w) {
        href_value(w, "mailto:" + context.account.address);
        href_value(w, owner_principal);
      });
    }
    if (kind == Kind::Calendar && collection) {
      if (name.name == "calendar-description") return text(collection->description);
      if (name.name == "calendar-timezone" && !collection->timezone.empty()) {
        return text(collection->timezone);
      }
      if (name.name == "supported-calendar-component-set") {
        return emit([&](XmlWriter& w) {
          std::string_view components = collection->components;
          if (components.empty()) components = "VEVENT,VTODO,VJOURNAL";
          while (!components.empty()) {
            const auto comma = components.find(',');
            w.empty(kCalDav, "comp", {{"name", components.substr(0, comma)}});
            components =
                comma == std::string_view::npos ? std::string_view() : components.substr(comma + 1);
          }
        });
      }
      if (name.name == "supported-calendar-data") {
        return emit([&](XmlWriter& w) {
          w.empty(kCalDav, "calendar-data",
                  {{"content-type", "text/calendar"}, {"version", "2.0"}});
        });
      }
      if (name.name == "max-resource-size") return text(std::to_string(kMaxResourceSize));
    }
    if (name.name == "calendar-data" && data && kind == Kind::CalendarObject && object &&
        !object->data.empty()) {
      return emit([&](XmlWriter& w) { w.text(calendar_data(*object, *data)); });
    }
  }
  if (name.ns == kCardDav) {
    if (name.name == "addressbook-home-set" && kind == Kind::Principal) {
      return emit([&](XmlWriter& w) {
        href_value(w, href({.kind = Kind::AddressBookHome,
                            .owner = context.account.address,
                            .collection = {},
                            .object = {}}));
      });
    }
    if (kind == Kind::AddressBook && collection) {
      if (name.name == "addressbook-description") return text(collection->description);
      if (name.name == "supported-address-data") {
        return emit([&](XmlWriter& w) {
          w.empty(kCardDav, "address-data-type",
                  {{"content-type", "text/vcard"}, {"version", "3.0"}});
          w.empty(kCardDav, "address-data-type",
                  {{"content-type", "text/vcard"}, {"version", "4.0"}});
        });
      }
      if (name.name == "max-resource-size") return text(std::to_string(kMaxResourceSize));
    }
    if (name.name == "address-data" && data && kind == Kind::Card && object &&
        !object->data.empty()) {
      return emit([&](XmlWriter& w) { w.text(object->data); });
    }
  }
  if (name.ns == kAppleIcal && name.name == "calendar-color" && kind == Kind::Calendar &&
      collection && !collection->color.empty()) {
    return text(collection->color);
  }
  // Dead properties.
  if (is_collection_node) {
    for (const auto& dead : node.dead) {
      if (dead.ns == name.ns && dead.name == name.name) {
        if (out) out->element(dead);
        return true;
      }
    }
  }
  return false;
}

std::vector<PropName> all_properties(const Node& node) {
  std::vector<PropName> names = {{std::string(kDav), "resourcetype"},
                                 {std::string(kDav), "current-user-principal"},
                                 {std::string(kDav), "owner"},
                                 {std::string(kDav), "displayname"}};
  const Kind kind = node.resource.kind;
  if (kind == Kind::Principal) {
    names.push_back({std::string(kDav), "principal-URL"});
    names.push_back({std::string(kCalDav), "calendar-home-set"});
    names.push_back({std::string(kCalDav), "calendar-user-address-set"});
    names.push_back({std::string(kCardDav), "addressbook-home-set"});
  }
  if (kind == Kind::Calendar || kind == Kind::AddressBook) {
    names.push_back({std::string(kDav), "sync-token"});
    names.push_back({std::string(kCalendarServer), "getctag"});
  }
  if (kind == Kind::Calendar) {
    names.push_back({std::string(kCalDav), "calendar-description"});
    names.push_back({std::string(kCalDav), "supported-calendar-component-set"});
    names.push_back({std::string(kCalDav), "calendar-timezone"});
    names.push_back({std::string(kAppleIcal), "calendar-color"});
  }
  if (kind == Kind::AddressBook) {
    names.push_back({std::string(kCardDav), "addressbook-description"});
  }
  if (kind == Kind::CalendarObject || kind == Kind::Card) {
    names.push_back({std::string(kDav), "getetag"});
    names.push_back({std::string(kDav), "getcontenttype"});
    names.push_back({std::string(kDav), "getcontentlength"});
  }
  for (const auto& dead : node.dead) names.push_back({dead.ns, dead.name});
  return names;
}

std::vector<PropName> prop_names(const XmlElement& prop) {
  std::vector<PropName> names;
  for (const auto& child : prop.children) names.push_back({child.ns, child.name});
  return names;
}

void write_response(XmlWriter& out, const Node& node, const std::vector<PropName>& names,
                    Context& context, const DataRequest* data) {
  std::vector<const PropName*> found, missing;
  for (const auto& name : names) {
    (property(node, name, context, nullptr, data) ? found : missing).push_back(&name);
  }
  out.open(kDav, "response");
  out.leaf(kDav, "href", href(node.resource));
  if (!found.empty()) {
    out.open(kDav, "propstat");
    out.open(kDav, "prop");
    for (const PropName* name : found) property(node, *name, context, &out, data);
    out.close();
    out.leaf(kDav, "status", "HTTP/1.1 200 OK");
    out.close();
  }
  if (!missing.empty()) {
    out.open(kDav, "propstat");
    out.open(kDav, "prop");
    for (const PropName* name : missing) out.empty(name->ns, name->name);
    out.close();
    out.leaf(kDav, "status", "HTTP/1.1 404 Not Found");
    out.close();
  }
  out.close();
}

namespace {

// PROPFIND's answer for names only (DAV:propname).
void write_names(XmlWriter& out, const Node& node) {
  out.open(kDav, "response");
  out.leaf(kDav, "href", href(node.resource));
  out.open(kDav, "propstat");
  out.open(kDav, "prop");
  for (const auto& name : all_properties(node)) out.empty(name.ns, name.name);
  out.close();
  out.leaf(kDav, "status", "HTTP/1.1 200 OK");
  out.close();
  out.close();
}

}  // namespace

Response propfind(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  const std::string_view depth = request.depth;
  if (!depth.empty() && depth != "0" && depth != "1" && depth != "infinity") {
    return plain(400, "bad Depth");
  }
  // RFC 4918 section 9.1: no Depth means infinity, which a server may refuse.
  const bool infinite = depth.empty() || depth == "infinity";
  if (infinite && resource.is_collection()) return precondition(403, kDav, "propfind-finite-depth");
  enum class Mode { Prop, AllProp, PropName } mode = Mode::AllProp;
  std::vector<PropName> names;
  if (!request.body.empty()) {
    auto body = parse_xml(request.body);
    if (!body) return plain(400, "bad XML: " + body.error().detail);
    if (body->ns != kDav || body->name != "propfind") return plain(400, "not a DAV:propfind");
    if (const XmlElement* prop = body->child(kDav, "prop")) {
      mode = Mode::Prop;
      names = prop_names(*prop);
    } else if (body->child(kDav, "propname")) {
      mode = Mode::PropName;
    } else if (const XmlElement* include = body->child(kDav, "include")) {
      names = prop_names(*include);
    }
  }

  // Where a client discovers collections, the defaults exist from the first look (two
  // reads); a request inside a collection needs none.
  if (resource.kind == Kind::Principal || resource.kind == Kind::CalendarHome ||
      resource.kind == Kind::AddressBookHome) {
    ensure_defaults(context);
  }
  // The resources answered for, and what the store holds for them.
  std::vector<Resource> resources{resource};
  std::vector<store::DavCollection> collections;
  std::vector<store::DavObject> objects;
  std::optional<store::DavCollection> collection;
  switch (resource.kind) {
    case Kind::CalendarHome:
    case Kind::AddressBookHome: {
      auto listed = context.store.list_collections(context.account.id,
                                                   resource.kind == Kind::CalendarHome
                                                       ? store::CollectionKind::Calendar
                                                       : store::CollectionKind::AddressBook);
      if (!listed) return plain(503, "try again later");
      collections = std::move(*listed);
      break;
    }
    case Kind::Calendar:
    case Kind::AddressBook:
    case Kind::CalendarObject:
    case Kind::Card: {
      auto found = find_collection(resource, context);
      if (!found) return plain(404, "not found");
      collection = std::move(*found);
      if (resource.is_collection() && depth != "1") break;
      std::vector<std::string> wanted;
      if (!resource.is_collection()) wanted.push_back(resource.object);
      auto listed = context.store.get_dav_objects(collection->id, wanted, false);
      if (!listed) return plain(503, "try again later");
      if (!resource.is_collection() && listed->empty()) return plain(404, "not found");
      objects = std::move(*listed);
      break;
    }
    case Kind::Root:
    case Kind::Principal:
      break;
  }

  XmlWriter out = new_writer();
  out.open(kDav, "multistatus");
  // At most kMaxHrefs responses, then one 507 for the request.
  std::size_t answered = 0;
  auto answer = [&](const Node& node) {
    if (answered > kMaxHrefs) return;
    if (answered++ == kMaxHrefs) {
      write_truncated(out, resource);
      return;
    }
    if (mode == Mode::PropName) {
      write_names(out, node);
      return;
    }
    std::vector<PropName> wanted = names;
    if (mode == Mode::AllProp) {
      for (auto& name : all_properties(node)) {
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
          wanted.push_back(std::move(name));
        }
      }
    }
    write_response(out, node, wanted, context);
  };
  if (resource.is_collection()) {
    answer({.resource = resource,
            .collection = collection ? &*collection : nullptr,
            .object = nullptr,
            .dead = collection ? dead_properties(*collection) : std::vector<XmlElement>()});
  }
  if (depth == "1" || !resource.is_collection()) {
    for (const auto& child : collections) {
      Resource child_resource{
          .kind = resource.kind == Kind::CalendarHome ? Kind::Calendar : Kind::AddressBook,
          .owner = resource.owner,
          .collection = child.name,
          .object = {}};
      answer({.resource = child_resource,
              .collection = &child,
              .object = nullptr,
              .dead = dead_properties(child)});
    }
    for (const auto& object : objects) {
      Resource child_resource = resource;
      if (resource.is_collection()) {
        child_resource.kind = resource.kind == Kind::Calendar ? Kind::CalendarObject : Kind::Card;
        child_resource.object = object.name;
      }
      answer({.resource = child_resource, .collection = &*collection, .object = &object});
    }
  }
  out.close();
  return multistatus(out);
}

namespace {

// A property a client may not set or remove (its value is the server's).
bool is_protected(const PropName& name) {
  static const PropName kProtected[] = {
      {"DAV:", "resourcetype"},
      {"DAV:", "getetag"},
      {"DAV:", "getcontentlength"},
      {"DAV:", "getcontenttype"},
      {"DAV:", "sync-token"},
      {"DAV:", "current-user-principal"},
      {"DAV:", "current-user-privilege-set"},
      {"DAV:", "owner"},
      {"DAV:", "principal-URL"},
      {"DAV:", "supported-report-set"},
      {"http://calendarserver.org/ns/", "getctag"},
      {"urn:ietf:params:xml:ns:caldav", "supported-calendar-component-set"},
      {"urn:ietf:params:xml:ns:caldav", "supported-calendar-data"},
      {"urn:ietf:params:xml:ns:caldav", "max-resource-size"},
      {"urn:ietf:params:xml:ns:caldav", "calendar-home-set"},
      {"urn:ietf:params:xml:ns:caldav", "calendar-user-address-set"},
      {"urn:ietf:params:xml:ns:carddav", "supported-address-data"},
      {"urn:ietf:params:xml:ns:carddav", "max-resource-size"},
      {"urn:ietf:params:xml:ns:carddav", "addressbook-home-set"},
  };
  return std::find(std::begin(kProtected), std::end(kProtected), name) != std::end(kProtected);
}

// The component names of a CALDAV:supported-calendar-component-set, "VEVENT,VTODO".
std::optional<std::string> component_set(const XmlElement& set) {
  std::string out;
  for (const auto* comp : set.children_named(kCalDav, "comp")) {
    const std::string_view name = comp->attribute("name");
    if (name != "VEVENT" && name != "VTODO" && name != "VJOURNAL") return std::nullopt;
    if (!out.empty()) out += ",";
    out += name;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Applies one set (value given) or remove (value null) to the collection; false when
// it may not.
bool apply(store::DavCollection& collection, std::vector<XmlElement>& dead,
           const XmlElement& element, bool set) {
  const PropName name{element.ns, element.name};
  const bool calendar = collection.kind == store::CollectionKind::Calendar;
  auto value = [&] { return set ? element.text : std::string(); };
  if (is(name, kDav, "displayname")) {
    collection.display_name = value();
  } else if (calendar && is(name, kCalDav, "calendar-description")) {
    collection.description = value();
  } else if (!calendar && is(name, kCardDav, "addressbook-description")) {
    collection.description = value();
  } else if (calendar && is(name, kAppleIcal, "calendar-color")) {
    collection.color = value();
  } else if (calendar && is(name, kCalDav, "calendar-timezone")) {
    collection.timezone = value();
  } else if (is_protected(name) || name.ns == kCalDav || name.ns == kCardDav) {
    return false;
  } else {
    std::erase_if(dead, [&](const XmlElement& held) {
      return held.ns == element.ns && held.name == element.name;
    });
    if (set) dead.push_back(element);
  }
  return true;
}

}  // namespace

Response proppatch(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  auto body = parse_xml(request.body);
  if (!body) return plain(400, "bad XML: " + body.error().detail);
  if (body->ns != kDav || body->name != "propertyupdate") {
    return plain(400, "not a DAV:propertyupdate");
  }
  if (resource.kind != Kind::Calendar && resource.kind != Kind::AddressBook) {
    return plain(403, "no properties to change here");
  }
  auto collection = find_collection(resource, context);
  if (!collection) return plain(404, "not found");
  std::vector<XmlElement> dead = dead_properties(*collection);
  // In document order (RFC 4918 section 9.2); all or nothing.
  std::vector<std::pair<PropName, bool>> results;
  bool all_ok = true;
  for (const auto& instruction : body->children) {
    const bool set = instruction.ns == kDav && instruction.name == "set";
    const bool remove = instruction.ns == kDav && instruction.name == "remove";
    if (!set && !remove) continue;
    const XmlElement* prop = instruction.child(kDav, "prop");
    if (!prop) continue;
    for (const auto& element : prop->children) {
      const bool ok = apply(*collection, dead, element, set);
      all_ok = all_ok && ok;
      results.push_back({{element.ns, element.name}, ok});
    }
  }
  collection->properties = store_dead_properties(dead);
  const bool too_big = collection->properties.size() > kMaxDeadProperties;
  if (all_ok && !too_big) {
    if (auto updated = context.store.update_collection(*collection); !updated) {
      log::error("dav: proppatch: " + updated.error().detail);
      return plain(503, "try again later");
    }
    context.audit("change", collection->name, 0, "proppatch");
  }
  XmlWriter out = new_writer();
  out.open(kDav, "multistatus");
  out.open(kDav, "response");
  out.leaf(kDav, "href", href(resource));
  for (const auto& [name, ok] : results) {
    out.open(kDav, "propstat");
    out.open(kDav, "prop");
    out.empty(name.ns, name.name);
    out.close();
    const char* status = all_ok
                             ? (too_big ? "HTTP/1.1 507 Insufficient Storage" : "HTTP/1.1 200 OK")
                         : ok ? "HTTP/1.1 424 Failed Dependency"
                              : "HTTP/1.1 403 Forbidden";
    out.leaf(kDav, "status", status);
    out.close();
  }
  out.close();
  out.close();
  return multistatus(out);
}

Response make_collection(const Request& request, Context& context) {
  const Resource& resource = request.resource;
  const bool mkcalendar = request.method == "MKCALENDAR";
  if (mkcalendar ? resource.kind != Kind::Calendar
                 : resource.kind != Kind::Calendar && resource.kind != Kind::AddressBook) {
    return plain(403, "no collection can be made here");
  }
  const bool calendar = resource.kind == Kind::Calendar;
  store::DavCollection collection{
      .account = context.account.id,
      .kind = calendar ? store::CollectionKind::Calendar : store::CollectionKind::AddressBook,
      .name = resource.collection,
      .components = calendar ? "VEVENT,VTODO" : ""};
  std::vector<XmlElement> dead;
  bool typed = false;  // an extended MKCOL said what it makes
  if (!request.body.empty()) {
    auto body = parse_xml(request.body);
    if (!body) return plain(400, "bad XML: " + body.error().detail);
    const bool expected = mkcalendar ? body->ns == kCalDav && body->name == "mkcalendar"
                                     : body->ns == kDav && body->name == "mkcol";
    if (!expected) return plain(415, "unexpected body");
    for (const auto* set : body->children_named(kDav, "set")) {
      const XmlElement* prop = set->child(kDav, "prop");
      if (!prop) continue;
      for (const auto& element : prop->children) {
        const PropName name{element.ns, element.name};
        if (is(name, kDav, "resourcetype")) {
          const bool says_calendar = element.child(kCalDav, "calendar") != nullptr;
          const bool says_book = element.child(kCardDav, "addressbook") != nullptr;
          if (says_calendar != calendar || says_book == calendar) {
            return precondition(403, kDav, "valid-resourcetype");
          }
          typed = true;
        } else if (calendar && is(name, kCalDav, "supported-calendar-component-set")) {
          auto components = component_set(element);
          if (!components) return precondition(403, kCalDav, "supported-calendar-component");
          collection.components = *components;
        } else if (!apply(collection, dead, element, true)) {
          return plain(403, "property " + element.name + " cannot be set");
        }
      }
    }
  }
  // A plain MKCOL makes an address book in the address book home; a calendar needs
  // MKCALENDAR or an extended MKCOL that says so.
  if (!mkcalendar && calendar && !typed) {
    return precondition(403, kDav, "valid-resourcetype");
  }
  collection.properties = store_dead_properties(dead);
  if (collection.properties.size() > kMaxDeadProperties) {
    return plain(507, "too many properties");
  }
  auto made = context.store.create_collection(collection);
  if (!made) {
    switch (made.error().code) {
      case Errc::Exists:
        return plain(405, "a collection of that name exists");
      case Errc::TooBig:
        return plain(507, "too many collections");
      default:
        log::error("dav: make collection: " + made.error().detail);
        return plain(503, "try again later");
    }
  }
  context.audit("change", made->name, 0, "create collection");
  Response response = plain(201, "");
  response.body.clear();
  return response;
}

}  // namespace rampart::dav
