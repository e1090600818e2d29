package dev.vcpuemu.model.guest.apf;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.guest.program.ApfHandler;
import dev.vcpuemu.model.guest.program.AsyncPfWait;
import dev.vcpuemu.model.guest.program.AsyncPfWake;
import dev.vcpuemu.model.guest.program.GenuineFault;
import dev.vcpuemu.model.guest.program.Kernel;
import dev.vcpuemu.model.guest.program.Routine;

/**
 * The legacy guests' #PF handler ({@code do_async_page_fault}, reference §2.1 "Guest #PF
 * handler"): both events arrive as #PF, the reason word tells them apart and CR2 holds the
 * token. The two generations differ only in what comes before the dispatch.
 */
abstract class ReasonWordPageFault extends ApfHandler {
    ReasonWordPageFault(Routine routine) {
        super(routine);
    }

    /** The dispatch on the reason read: 1 wait, 2 wake, anything else a genuine fault. */
    final void dispatch(Kernel k) {
        int token = (int) address;
        if (word == Apf.REASON_PAGE_NOT_PRESENT) {
            AsyncPfWait.call(k, token, false, savedCpl == 0, this);
        } else if (word == Apf.REASON_PAGE_READY) {
            AsyncPfWake.call(k, token);
        } else {
            GenuineFault.call(k, address, this);
        }
    }
}
