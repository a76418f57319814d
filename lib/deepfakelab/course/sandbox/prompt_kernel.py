"""The graded notebook's kernel client, without jupyter_client's fixed 0.2 s wait at start.

``wait_for_ready`` ends by reading IOPub until it has been silent for 0.2 s, so even a kernel
that answered at once is declared ready 0.2 s later: a sixth of a toy submission's grading,
and idle time on a machine whose cores the submissions share. :class:`PromptKernelClient`
waits for the same proof that the kernel is up (its ``kernel_info_reply``, IOPub connected),
then drops the start-up's IOPub messages already received and goes on. Nothing is lost by not
waiting for the rest: nbclient takes from IOPub only the messages whose parent is the request
it is running, so a late ``status`` of the start-up is ignored either way.

(The graceful shutdown's 0.1 s is not such a wait: the kernel takes about that long to end,
and polling it more often saved 10 ms, so it is left as it is.)

Everything else is jupyter_client's own (:class:`~jupyter_client.manager.AsyncKernelManager`,
:class:`~jupyter_client.asynchronous.AsyncKernelClient`). :class:`..grading.limits.LimitedExecute`
uses :class:`PromptKernelManager`, which hands out this client.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type


class PromptKernelClient(AsyncKernelClient):
    """An async kernel client whose :meth:`wait_for_ready` returns once the kernel has answered."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Wait for the kernel's ``kernel_info_reply`` with IOPub connected, as jupyter_client does.

        Raises :class:`RuntimeError` if the kernel dies first or ``timeout`` s pass. The
        start-up's IOPub messages already received are dropped without waiting for more.
        """
        deadline = time.time() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected: its welcome (or a status) is there, or comes at once
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.time() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:  # what already arrived, without the 0.2 s of silence
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class PromptKernelManager(AsyncKernelManager):
    """jupyter_client's async kernel manager, whose clients are :class:`PromptKernelClient`."""

    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient, config=True)
