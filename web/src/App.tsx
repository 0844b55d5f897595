// Which page a path shows, behind the header. Pages that need a session send a signed-out
// visitor to /login and back afterwards.
import { useEffect } from "react";
import { Header } from "./Header";
import { AcceptPage } from "./pages/Accept";
import { AuditPage } from "./pages/Audit";
import { BotPage } from "./pages/Bot";
import { BotsPage } from "./pages/Bots";
import { NewBotPage } from "./pages/NewBot";
import { NewStrategyPage } from "./pages/NewStrategy";
import { ConnectionsPage } from "./pages/Connections";
import { afterSignIn, LoginPage } from "./pages/Login";
import { MembersPage } from "./pages/Members";
import { NewOrganisationPage } from "./pages/NewOrganisation";
import { NotificationsPage } from "./pages/Notifications";
import { OperatorTicketPage } from "./pages/OperatorTicket";
import { QueuePage } from "./pages/Queue";
import { RegisterPage } from "./pages/Register";
import { StrategiesPage } from "./pages/Strategies";
import { StrategyPage } from "./pages/Strategy";
import { SupportPage } from "./pages/Support";
import { TicketPage } from "./pages/Ticket";
import { TokensPage } from "./pages/Tokens";
import { UsagePage } from "./pages/Usage";
import { WorkspacePage } from "./pages/Workspace";
import { Link, match, navigate, usePath } from "./router";
import { useSession } from "./session";
import { Loading } from "./ui";

const PAGES: [string, string][] = [
  ["", "Overview"],
  ["/members", "Members"],
  ["/bots", "Bots"],
  ["/strategies", "Strategies"],
  ["/support", "Support"],
  ["/audit", "Audit log"],
  ["/tokens", "API tokens"],
  ["/connections", "Venue connections"],
  ["/usage", "Usage"],
];

export function App() {
  const path = usePath();
  const { account, checking } = useSession();
  const bot = match("/w/:id/bots/:bot", path);
  const strategy = match("/w/:id/strategies/:strategy", path);
  const ticket = match("/w/:id/support/:ticket", path);
  const opTicket = match("/support/tickets/:ticket", path);
  const ws = match("/w/:id", path) ?? match("/w/:id/:page", path) ?? bot ?? strategy ?? ticket;
  const workspaceId = ws?.id ?? null;
  const open = path === "/login" || path === "/register" || path === "/invitations/accept";

  useEffect(() => {
    if (checking) return;
    if (!account && !open) navigate("/login", { next: path }, true);
    else if (account && (path === "/" || path === "/login" || path === "/register")) {
      // Signed in: where the login was asked for (an invitation link), else your workspace.
      const next = path === "/" ? "/" : afterSignIn();
      navigate(next === "/" ? `/w/${account.me.personal_workspace_id}` : next, null, true);
    }
  }, [account, checking, open, path]);

  useEffect(() => {
    const name = account?.workspaces.find((w) => w.workspace_id === workspaceId)?.name;
    document.title = name ? `${name} · plutarc` : "plutarc";
  }, [account, workspaceId]);

  let page;
  if (checking) page = <Loading what="your account" />;
  else if (path === "/login") page = <LoginPage />;
  else if (path === "/register") page = <RegisterPage />;
  else if (path === "/invitations/accept") page = <AcceptPage />;
  else if (!account) page = <Loading what="the login page" />;
  else if (path === "/organisations/new") page = <NewOrganisationPage />;
  else if (ws && match("/w/:id/members", path)) page = <MembersPage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id/bots", path)) page = <BotsPage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id/bots/new", path)) page = <NewBotPage workspaceId={ws.id!} />;
  else if (bot) page = <BotPage key={bot.bot} workspaceId={bot.id!} botId={bot.bot!} />;
  else if (ws && match("/w/:id/strategies", path)) page = <StrategiesPage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id/strategies/new", path)) page = <NewStrategyPage workspaceId={ws.id!} />;
  else if (strategy)
    page = <StrategyPage key={strategy.strategy} workspaceId={strategy.id!} strategyId={strategy.strategy!} />;
  else if (ws && match("/w/:id/support", path)) page = <SupportPage workspaceId={ws.id!} />;
  else if (ticket) page = <TicketPage key={ticket.ticket} workspaceId={ticket.id!} ticketId={ticket.ticket!} />;
  else if (ws && match("/w/:id/audit", path)) page = <AuditPage workspaceId={ws.id!} />;
  else if (path === "/support/queue") page = <QueuePage />;
  else if (path === "/notifications") page = <NotificationsPage />;
  else if (opTicket) page = <OperatorTicketPage key={opTicket.ticket} ticketId={opTicket.ticket!} />;
  else if (ws && match("/w/:id/tokens", path)) page = <TokensPage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id/connections", path)) page = <ConnectionsPage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id/usage", path)) page = <UsagePage workspaceId={ws.id!} />;
  else if (ws && match("/w/:id", path)) page = <WorkspacePage workspaceId={ws.id!} />;
  else page = <NotFound />;

  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <Header workspaceId={workspaceId} />
      {account && workspaceId && (
        <nav aria-label="Workspace pages">
          {PAGES.map(([page, label]) => {
            const href = `/w/${workspaceId}${page}`;
            const here = page ? path === href || path.startsWith(`${href}/`) : path === href;
            return (
              <Link key={page} href={href} aria-current={here ? "page" : undefined}>
                {label}
              </Link>
            );
          })}
        </nav>
      )}
      <div id="content">{page}</div>
    </>
  );
}

function NotFound() {
  return (
    <main>
      <h1>Page not found</h1>
      <p>
        <Link href="/">Back to your workspace</Link>
      </p>
    </main>
  );
}
