/** What the stores publish on the changes channel when a job or a launch changes. */
export interface ChangeNotice {
  kind: 'job' | 'launch';
  id: string;
  repository: string;
  state: string;
  at: string;
}
