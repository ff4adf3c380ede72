/** Root: IKEv1 rekeying (Quick Mode, Main Mode) and DPD against strongSwan (lib/scenarios/). */

import { REKEY } from "./lib/scenarios/rekey.ts";
import { ikev1Suite } from "./lib/suite.ts";

ikev1Suite("IKEv1 rekey and DPD", REKEY);
