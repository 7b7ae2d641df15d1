require ["body", "vacation", "subaddress", "copy", "mailbox", "date", "index", "regex", "editheader", "include", "duplicate", "spamtest", "relational", "fileinto", "variables"];
/* bracket
   comment */
if body :content "text" :contains "birdseed" { redirect :copy "x@example.net"; }
if address :detail "from" "x" { fileinto :create "INBOX.x"; }
if date :index 1 :zone "+0100" :is "received" "hour" "18" { addheader "X-Hour" "18"; }
if header :regex "subject" "^(.*) \\[([a-z]+)\\]" { deleteheader :index 1 "received"; }
if duplicate :seconds 60 { discard; }
if spamtest :value "ge" "5" { include :once :optional "spam"; }
if currentdate :is "year" "2007" { vacation :days 3 :subject "away" :addresses "roadrunner@acme.example.com" text:
I am away.
..dot
.
; }
