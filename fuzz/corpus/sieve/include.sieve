require "include";
include "self";
return;
