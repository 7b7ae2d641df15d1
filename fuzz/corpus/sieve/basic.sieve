require ["fileinto", "reject", "envelope", "imap4flags", "variables", "relational", "comparator-i;ascii-numeric"];
# comment
if header :matches "Subject" "*[*]*" { set :upper "list" "${2}"; fileinto :flags "\\Seen" "lists.${list}"; stop; }
elsif address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "2" { addflag "$Many"; keep; }
else { if envelope :localpart :is "from" "coyote" { discard; } }
