/** Root: IKEv1 Main Mode PSK interop against strongSwan (scenarios in lib/scenarios/). */

import { MAIN_MODE } from "./lib/scenarios/main_mode.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("IKEv1 Main Mode PSK", MAIN_MODE);
