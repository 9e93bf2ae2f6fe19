/** The manager's desk (SPEC §10, §15): its menu and screens, all in this lazily loaded chunk. */
import './manager.css';
import { user, useSignal } from '../state';
import { useDeskRoute } from './common';
import { useMT, type MKey } from './i18n';
import { Home } from './home';
import { Approvals } from './approvals';
import { ReviewQueue, VisitReview } from './review';
import { Handover, TeamCustomers } from './team';
import { DailyReports, Targets } from './targets';
import { Reports } from './reports';
import { ImportWizard } from './import';

const MENU: [string, MKey][] = [
  ['home', 'home'], ['approvals', 'approvals'], ['review', 'review'], ['team', 'team'], ['handover', 'handover'],
  ['targets', 'targets'], ['daily', 'daily'], ['reports', 'reports'], ['import', 'import'],
];

export function Desk() {
  const { m } = useMT();
  const u = useSignal(user);
  const route = useDeskRoute();
  const screen = route.screen === 'visit' ? 'review' : route.screen;
  // imports are for managers and admins (ops neither import nor hand over)
  const menu = MENU.filter(([k]) => !((k === 'import' || k === 'handover') && u?.role === 'ops'));
  return (
    <div class="desk" data-testid="desk">
      <nav class="desk-menu" aria-label={m('desk')}>
        {menu.map(([k, label]) => (
          <a href={`#/desk/${k}`} class={screen === k ? 'on' : ''} data-testid={`desk-${k}`}>{m(label)}</a>
        ))}
      </nav>
      <div class="desk-body">
        {route.screen === 'approvals' ? <Approvals />
          : route.screen === 'review' ? <ReviewQueue />
          : route.screen === 'visit' ? <VisitReview id={route.arg} />
          : route.screen === 'team' ? <TeamCustomers />
          : route.screen === 'handover' ? <Handover />
          : route.screen === 'targets' ? <Targets />
          : route.screen === 'daily' ? <DailyReports date={route.query.get('date')} />
          : route.screen === 'reports' ? <Reports reportKey={route.arg} query={route.query} />
          : route.screen === 'import' ? <ImportWizard />
          : <Home />}
      </div>
    </div>
  );
}
