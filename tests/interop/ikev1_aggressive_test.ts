/** Root: IKEv1 Aggressive Mode PSK with FQDN IDs (scenarios in lib/scenarios/). */

import { AGGRESSIVE } from "./lib/scenarios/aggressive.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("IKEv1 Aggressive Mode PSK with FQDN IDs", AGGRESSIVE);
